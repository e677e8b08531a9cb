"""Recognising later PDF revisions that only add comments (annotations).

pyHanko's difference analysis clears form filling, new signatures and LTA updates, but
documents that it does not support the "annotations" DocMDP level: a revision that only
adds a sticky note is flagged as an unsafe change. Members' staff do annotate signed
letters, and PDF (ISO 32000-1, 12.8.2.2) allows comments after an approval signature or
under DocMDP P=3, so this module decides that one case, conservatively: every revision
after the signed one must

* free no object;
* change existing objects only if they are page dictionaries whose entries, except
  /Annots, are unchanged and whose /Annots keeps every earlier annotation (or such an
  /Annots array kept as its own object), or the document information dictionary
  holding only strings (ModDate, Producer);
* add only markup annotations (no widgets, links, file attachments, multimedia), without
  actions (/A, /AA), plus objects reachable from their /AP appearances and /Popup, and
  cross-reference or object streams.

Anything else leaves pyHanko's verdict standing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["only_annotations_added", "COMMENT_SUBTYPES"]

COMMENT_SUBTYPES = frozenset(
    {
        "/Text",
        "/FreeText",
        "/Line",
        "/Square",
        "/Circle",
        "/Polygon",
        "/PolyLine",
        "/Highlight",
        "/Underline",
        "/Squiggly",
        "/StrikeOut",
        "/Stamp",
        "/Caret",
        "/Ink",
        "/Popup",
    }
)

_STRUCTURAL_TYPES = {"/XRef", "/ObjStm"}


class _NotComments(Exception):
    pass


def _references(value: Any) -> list[Any]:
    from pyhanko.pdf_utils import generic

    return [v.reference for v in value if isinstance(v, generic.IndirectObject)] if isinstance(value, generic.ArrayObject) else []


def _page_annotation_refs(page: Any) -> set[Any]:
    from pyhanko.pdf_utils import generic

    value = page.get("/Annots")
    if value is None:
        return set()
    value = value.get_object() if isinstance(value, generic.IndirectObject) else value
    if not isinstance(value, generic.ArrayObject):
        raise _NotComments("/Annots is not an array")
    refs = _references(value)
    if len(refs) != len(value):
        raise _NotComments("/Annots holds direct annotations")
    return set(refs)


def _same_except_annots(old: Any, new: Any) -> None:
    keys = (set(old.keys()) | set(new.keys())) - {"/Annots"}
    for key in keys:
        if key not in old or key not in new or old.raw_get(key) != new.raw_get(key):
            raise _NotComments(f"page entry {key} changed")


def _reachable_new_objects(start: Any, resolver: Any, new_refs: set[Any], found: set[Any]) -> None:
    """New objects an annotation's appearance or popup uses (fonts, forms, images)."""
    from pyhanko.pdf_utils import generic

    stack = [start]
    while stack:
        value = stack.pop()
        if isinstance(value, generic.IndirectObject):
            ref = value.reference
            if ref in found or ref not in new_refs:
                continue
            found.add(ref)
            stack.append(resolver.get_object(ref))
        elif isinstance(value, (generic.DictionaryObject, generic.StreamObject)):
            stack.extend(value.raw_get(k) for k in value.keys() if k not in ("/P", "/Parent", "/IRT"))
        elif isinstance(value, generic.ArrayObject):
            stack.extend(value)


def _only_strings(value: Any) -> bool:
    from pyhanko.pdf_utils import generic

    return isinstance(value, generic.DictionaryObject) and not isinstance(value, generic.StreamObject) and all(
        isinstance(v, (generic.TextStringObject, generic.ByteStringObject, generic.NameObject)) for v in value.values()
    )


def _indirect_annots_arrays(resolver: Any) -> set[Any]:
    """References of the /Annots arrays that pages keep as separate objects."""
    from pyhanko.pdf_utils import generic

    found: set[Any] = set()
    stack = [resolver.get_object(resolver.root_ref)["/Pages"]]
    seen: set[Any] = set()
    while stack:
        node = stack.pop()
        node_ref = node.reference if isinstance(node, generic.IndirectObject) else None
        if node_ref is not None:
            if node_ref in seen:
                raise _NotComments("circular page tree")
            seen.add(node_ref)
        node = node.get_object() if isinstance(node, generic.IndirectObject) else node
        if node.get("/Type") == "/Pages":
            stack.extend(node.raw_get("/Kids"))
        elif "/Annots" in node and isinstance(node.raw_get("/Annots"), generic.IndirectObject):
            found.add(node.raw_get("/Annots").reference)
    return found


def _check_revision(reader: Any, revision: int) -> None:
    from pyhanko.pdf_utils import generic

    xrefs = reader.xrefs
    if xrefs.refs_freed_in_revision(revision):
        raise _NotComments("objects were freed")
    old = reader.get_historical_resolver(revision - 1)
    new = reader.get_historical_resolver(revision)
    changed = xrefs.explicit_refs_in_revision(revision)
    new_refs = {ref for ref in changed if xrefs.get_introducing_revision(ref) == revision}
    added_annotations: set[Any] = set()
    annots_arrays = _indirect_annots_arrays(old)
    try:
        info = reader.trailer.raw_get("/Info", revision=revision)
        info_ref = info.reference if isinstance(info, generic.IndirectObject) else None
    except KeyError:
        info_ref = None
    for ref in changed - new_refs:
        before = old.get_object(ref)
        after = new.get_object(ref)
        if isinstance(before, generic.DictionaryObject) and before.get("/Type") == "/Page":
            _same_except_annots(before, after)
            old_annotations = _page_annotation_refs(before)
            new_annotations = _page_annotation_refs(after)
        elif ref == info_ref and _only_strings(after):
            continue  # the document information dictionary (ModDate, Producer)
        elif ref in annots_arrays and isinstance(after, generic.ArrayObject):
            # A page's /Annots kept as an indirect array (pyHanko writes it so).
            old_annotations, new_annotations = set(_references(before)), set(_references(after))
            if len(new_annotations) != len(after):
                raise _NotComments("/Annots holds direct annotations")
        else:
            raise _NotComments(f"object {ref.idnum} changed and is neither a page nor its /Annots")
        if not old_annotations <= new_annotations:
            raise _NotComments("annotations were removed")
        added_annotations |= new_annotations - old_annotations
    if not added_annotations:
        raise _NotComments("nothing but annotations may change")
    explained: set[Any] = set()
    for ref in added_annotations:
        if ref not in new_refs:
            raise _NotComments("an existing object was attached as an annotation")
        annotation = new.get_object(ref)
        if not isinstance(annotation, generic.DictionaryObject):
            raise _NotComments("annotation is not a dictionary")
        if annotation.get("/Subtype") not in COMMENT_SUBTYPES:
            raise _NotComments(f"annotation type {annotation.get('/Subtype')} is not a comment")
        if "/A" in annotation or "/AA" in annotation:
            raise _NotComments("annotation carries an action")
        explained.add(ref)
        for key in ("/AP", "/Popup"):
            if key in annotation:
                _reachable_new_objects(annotation.raw_get(key), new, new_refs, explained)
    for ref in new_refs - explained:
        obj = new.get_object(ref)
        if not (isinstance(obj, generic.DictionaryObject) and obj.get("/Type") in _STRUCTURAL_TYPES):
            raise _NotComments(f"new object {ref.idnum} is not part of a comment")


def only_annotations_added(reader: Any, signed_revision: int) -> str | None:
    """None when every revision after ``signed_revision`` only adds comments; otherwise
    the reason why not."""
    try:
        for revision in range(signed_revision + 1, reader.xrefs.total_revisions):
            _check_revision(reader, revision)
    except _NotComments as reason:
        return str(reason)
    except Exception as exc:  # noqa: BLE001 - unreadable structures are not "only comments"
        return f"revisions cannot be read: {exc}"
    return None
