"""Text as the n-grams see it: escapes undone, NFKC, lower case, chat wrappers removed, split into words."""

import re
import unicodedata

ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[nrtbf\"'\\/])")
SIMPLE_ESCAPES = {"n": " ", "r": " ", "t": " ", "b": " ", "f": " ", '"': '"', "'": "'", "\\": "\\", "/": "/"}
# Chat wrappers: special tokens of the common templates, and markdown emphasis/code fences (punctuation anyway).
WRAPPER = re.compile(r"<\|[^|<>]{1,40}\|>|</?(?:s|start_of_turn|end_of_turn|bos|eos)>|\[/?INST\]")
WORD = re.compile(r"\w+")


def unescape(match):
    code = match.group(1)
    if code[0] == "u":
        try:
            return chr(int(code[1:], 16))
        except ValueError:
            return " "
    return SIMPLE_ESCAPES[code]


def normalize(text):
    """The text as the n-grams see it: escapes undone, NFKC, lower case, chat wrappers removed."""
    text = ESCAPE.sub(unescape, text)
    text = WRAPPER.sub(" ", text)
    return unicodedata.normalize("NFKC", text).lower()


def words(text):
    return WORD.findall(normalize(text))
