"""Machine-readable powers of attorney (МЧД, ФНС format EMCHD_1): parsing, verification,
revocation, and the package hook (SPEC section 3, issue 11 section 1)."""
