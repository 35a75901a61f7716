"""Gives the Chinese edition's headings the English edition's ids.

mdBook makes each heading's id from its text, so a translated heading gets a Chinese id, and
every link to it (`[...](step08-io-uring.md#two-queues)`, kept as it is by the translation)
would land at the top of the page instead. The two editions have the same headings in the same
order (the translation keeps the structure, message for message), so the n-th heading of a
Chinese page takes the id of the n-th heading of the English page: in the page itself, in its
own `#` links, and in the search index. Run by build.sh after both builds.

    python3 book/po/anchors.py book/book book/book/zh-CN
"""

import re
import sys
from pathlib import Path

HEADING = re.compile(r'<h([1-6]) id="([^"]+)"')


def ids(html):
    return [m.group(2) for m in HEADING.finditer(html)]


def main(english_dir, chinese_dir):
    english_dir, chinese_dir = Path(english_dir), Path(chinese_dir)
    renamed = {}  # (page, Chinese id) -> English id
    problems = []
    for page in sorted(chinese_dir.glob("*.html")):
        english_page = english_dir / page.name
        if not english_page.exists():
            continue
        chinese = page.read_text(encoding="utf-8")
        english_ids = ids(english_page.read_text(encoding="utf-8"))
        chinese_ids = ids(chinese)
        if len(english_ids) != len(chinese_ids):
            problems.append(
                f"{page.name}: {len(chinese_ids)} headings, the English page has {len(english_ids)}"
            )
            continue
        mapping = {zh: en for zh, en in zip(chinese_ids, english_ids) if zh != en}
        if not mapping:
            continue
        for zh, en in mapping.items():
            renamed[(page.name, zh)] = en

        def swap(match):
            return match.group(1) + mapping.get(match.group(2), match.group(2)) + '"'

        chinese = re.sub(r'(<h[1-6] id=")([^"]+)"', swap, chinese)
        chinese = re.sub(r'(href="#)([^"]+)"', swap, chinese)
        page.write_text(chinese, encoding="utf-8")
    for index in chinese_dir.glob("searchindex*.js"):
        text = index.read_text(encoding="utf-8")

        def swap_url(match):
            page, fragment = match.group(1), match.group(2)
            return f'"{page}#{renamed.get((page, fragment), fragment)}"'

        text = re.sub(r'"([\w.-]+\.html)#([^"]+)"', swap_url, text)
        index.write_text(text, encoding="utf-8")
    for problem in problems:
        print(f"anchors.py: {problem}", file=sys.stderr)
    print(f"anchors.py: {len(renamed)} Chinese heading ids replaced by the English ones")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
