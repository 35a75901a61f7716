"""Checks the built Chinese edition for emphasis that did not render.

The gettext preprocessor writes emphasis back as `_..._`, and CommonMark does not take `_` for
emphasis between Chinese characters: the reader would see the underscores. Translations write
emphasis next to Chinese text as `<em>...</em>` (book/po/README.md); this finds any that slipped
through, in the text of every page outside code. Run by build.sh.

    python3 book/po/check_html.py book/book/zh-CN
"""

import re
import sys
from pathlib import Path

WIDE = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
LOOSE = re.compile(rf"(?<=[{WIDE}])_[^_<>\n]+?_|_[^_<>\n]+?_(?=[{WIDE}])|\*\*?[^*<>\n]+?\*\*?(?=[{WIDE}])")


def main(folder):
    found = 0
    for page in sorted(Path(folder).glob("*.html")):
        if page.name == "print.html":
            continue  # the same text as the pages
        html = page.read_text(encoding="utf-8")
        main = html[html.find("<main>") : html.find("</main>")]
        text = re.sub(r"<(code|pre|script|style)[^>]*>.*?</\1>", "", main, flags=re.S)
        text = re.sub(r"<[^>]+>", "", text)
        for match in LOOSE.finditer(text):
            found += 1
            print(f"check_html.py: {page.name}: emphasis shown as text: {match.group(0)!r}", file=sys.stderr)
    if found:
        print(f"check_html.py: {found} (write <em>...</em> in zh-CN.po)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
