"""Makes the Chinese edition's search find Chinese words.

mdBook's search index splits text into words at spaces and hyphens only. Chinese has no spaces,
so a whole clause (`时间表：把下一个截止时间保存在`) is one word of the index, and the search
box, whose trimmer keeps only ASCII letters and digits, cannot even ask for it. This script adds
to the index, for every section, the pairs of neighbouring Chinese characters of its text
(bigrams: `时间`, `间表`, ...; the usual way to index text without word breaks) and the
Latin words written against Chinese characters or punctuation (`SQPOLL` in `SQPOLL，`). The
search box does the same to a query (`book/cjk-search.js`, on the Chinese pages only), so
`绿色线程` looks for `绿色`, `色线` and `线程`, and the sections with all three rank first.
Run by build.sh after anchors.py.

    python3 book/po/cjk_search.py book/book/zh-CN
"""

import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

PREFIX = "window.search = Object.assign(window.search, JSON.parse('"
SUFFIX = "'));"

# Chinese characters (CJK unified ideographs, extension A, compatibility ideographs). Everything
# else that is not a letter, digit or `_` separates words, Chinese punctuation included.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RUN = re.compile(f"[{HAN}]+")
# What the search box's tokenizer splits at before anything else (elasticlunr's: spaces and
# hyphens), and what its trimmer removes from either end of a word.
SEPARATOR = re.compile(r"[\s\-]+")
EDGE = re.compile(r"^\W+|\W+$")
# Chinese punctuation and symbols, which end a Latin word written against them.
WIDE_PUNCTUATION = re.compile("[\u3000-\u303f\uff00-\uffef\u2010-\u206f]+")


def js_unescape(text):
    """The JSON text of the JavaScript string literal mdBook wrote it in."""
    return re.sub(r"\\(.)", lambda m: m.group(1), text, flags=re.S)


def js_escape(text):
    return text.replace("\\", "\\\\").replace("'", "\\'")


def tokens(text):
    """The words this script adds for `text`: bigrams of its Chinese runs (a single character
    when a run has one), and the Latin words that stood against Chinese characters."""
    found = []
    for word in SEPARATOR.split(text.lower()):
        if not HAN_RUN.search(word) and not WIDE_PUNCTUATION.search(word):
            continue  # a plain word: mdBook's index has it already
        for run in HAN_RUN.findall(word):
            if len(run) == 1:
                found.append(run)
            found.extend(run[i : i + 2] for i in range(len(run) - 1))
        for part in WIDE_PUNCTUATION.split(HAN_RUN.sub(" ", word)):
            for piece in part.split():
                piece = EDGE.sub("", piece)
                if piece:
                    found.append(piece)
    return found


def add(root, token, ref, tf):
    """Adds `token` for document `ref` to a field's trie, as elasticlunr keeps it: a node per
    character, each with the documents that have the word ending there and their count."""
    node = root
    for ch in token:
        node = node.setdefault(ch, {"docs": {}, "df": 0})
    if ref in node["docs"]:
        node["docs"][ref]["tf"] = max(node["docs"][ref]["tf"], tf)
    else:
        node["docs"][ref] = {"tf": tf}
        node["df"] += 1


def main(book_dir):
    indexes = list(Path(book_dir).glob("searchindex*.js"))
    if len(indexes) != 1:
        print(f"cjk_search.py: expected one search index in {book_dir}, found {len(indexes)}",
              file=sys.stderr)
        return 1
    path = indexes[0]
    text = path.read_text(encoding="utf-8")
    if not (text.startswith(PREFIX) and text.endswith(SUFFIX)):
        print(f"cjk_search.py: {path} is not in the form mdBook writes", file=sys.stderr)
        return 1
    search = json.loads(js_unescape(text[len(PREFIX) : -len(SUFFIX)]))
    index = search["index"]
    store = index["documentStore"]
    added = 0
    for ref, doc in store["docs"].items():
        for field in index["fields"]:
            counts = Counter(tokens(doc.get(field) or ""))
            for token, count in counts.items():
                add(index["index"][field]["root"], token, ref, math.sqrt(count))
            # The field's length in words, which scores divide by, counts them too.
            store["docInfo"][ref][field] = store["docInfo"][ref].get(field, 0) + sum(counts.values())
            added += sum(counts.values())
    if added == 0:
        print("cjk_search.py: no Chinese text in the index: is this the Chinese edition?",
              file=sys.stderr)
        return 1
    out = json.dumps(search, ensure_ascii=False, separators=(",", ":"))
    path.write_text(PREFIX + js_escape(out) + SUFFIX, encoding="utf-8")
    print(f"cjk_search.py: {added} Chinese words added to {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
