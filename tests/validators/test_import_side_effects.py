"""Importing the validators changes no process-wide state that belongs to the application
(issue 13 §1): logging of the libraries is left as the importer configured it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_importing_the_pdf_verifier_leaves_pyhankos_logging_alone() -> None:
    script = (
        "import json, logging\n"
        "import validators.signatures.pdf, validators.signatures.locate, validators.package\n"
        "log = logging.getLogger('pyhanko')\n"
        "print(json.dumps({'propagate': log.propagate, 'handlers': len(log.handlers)}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(run.stdout) == {"propagate": True, "handlers": 0}


def test_the_gateway_command_quiets_pyhanko_itself() -> None:
    script = (
        "import json, logging\n"
        "from gateway.cli import main\n"
        "main(['trust', '--json'])\n"
        "log = logging.getLogger('pyhanko')\n"
        "print(json.dumps({'propagate': log.propagate}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"propagate": False}
