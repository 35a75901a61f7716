#!/usr/bin/env bash
# Builds the Chinese edition from book/src and book/po/zh-CN.po into book/book/zh-CN, beside
# the English one (build the English first: `mdbook build book` empties book/book). Fails on any
# warning or error of the build. Needs mdbook-i18n-helpers (book/po/README.md).
#
# The gettext preprocessor runs before `{{#include}}` is expanded: it translates the Markdown
# as written, and the code and program outputs then come in untranslated.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v mdbook-gettext >/dev/null 2>&1; then
    echo "build.sh: mdbook-gettext is missing: cargo install mdbook-i18n-helpers --locked" >&2
    exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
MDBOOK_BOOK__LANGUAGE=zh-CN \
    MDBOOK_BOOK__TITLE='从阻塞到 async/await' \
    MDBOOK_BOOK__DESCRIPTION='一步一步、每一步都能运行的 Rust 程序，带你从阻塞的 connect 走到一个你理解到系统调用层面的异步运行时。' \
    MDBOOK_PREPROCESSOR__GETTEXT='{"before": ["links"]}' \
    mdbook build book -d book/book/zh-CN 2>&1 | tee "$log"
if grep -Eq '(ERROR|WARN)' "$log"; then
    echo "build.sh: the Chinese build reported errors or warnings (above)" >&2
    exit 1
fi
# The English edition's heading ids, so that links to a section land on it (anchors.py).
if [ -f book/book/index.html ]; then
    python3 book/po/anchors.py book/book book/book/zh-CN
    # Chinese words in the search index (mdBook's splits words at spaces only).
    python3 book/po/cjk_search.py book/book/zh-CN
    python3 book/po/check_html.py book/book/zh-CN
else
    echo "build.sh: build the English edition first (mdbook build book), for its heading ids" >&2
    exit 1
fi
