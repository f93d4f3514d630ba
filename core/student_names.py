"""When two written names are one student: shared by the agent's identity tracking and by the
database's access and erasure requests (which must find every spelling the agent stored)."""

from __future__ import annotations

import re
import unicodedata

TRUNCATION = re.compile(r"\s*(\.{2,}|…)\s*$")  # Zoom cuts a long name short with "..."
MIN_TRUNCATED = 6  # letters a truncated tag must keep to be matched to a longer one


def normalize_name(text: str) -> str:
    """The identity key of a name: case, spaces, punctuation, invisible controls and Zoom's
    "..." do not matter; letters, digits and combining signs do (a Devanagari vowel sign makes
    another name: कमल is not कमला). One Unicode form (NFC), so a decomposed "José" is "José".
    Symbols count only in a name made of nothing else (an emoji for a name)."""
    text = unicodedata.normalize("NFC", TRUNCATION.sub("", text))
    kept = [c for c in text if unicodedata.category(c)[0] in "LMNS"]
    words = [c for c in kept if unicodedata.category(c)[0] != "S"]
    return "".join(words or kept).casefold()


def same_student(stored: str, requested: str) -> bool:
    """Is a stored display name this student's? The same letters, or the start of the full name
    cut short by Zoom ("Elizabeth Hernández ..." for "Elizabeth Hernández Castro")."""
    a, b = normalize_name(stored), normalize_name(requested)
    if not a or not b:
        return False
    return a == b or (bool(TRUNCATION.search(stored)) and len(a) >= MIN_TRUNCATED and b.startswith(a))


def plain_key(normalized: str) -> str:
    """A participant's key where names are stored as they are (not pseudonymized): the agent
    keys a tag by its normalized name, and a class list's student by its `identity`."""
    return f"name:{normalized}"
