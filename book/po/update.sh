#!/usr/bin/env bash
# The Chinese edition's messages, kept in step with the English book (see README.md here).
#
#   bash book/po/update.sh           re-extract messages.pot from book/src, merge it into
#                                    zh-CN.po (new messages untranslated, changed ones fuzzy)
#   bash book/po/update.sh --check   the same into a scratch copy, changing nothing: fails if
#                                    any message is missing, untranslated or fuzzy (CI runs it)
#
# Needs mdbook, mdbook-i18n-helpers (cargo install mdbook-i18n-helpers --locked) and GNU
# gettext (msgmerge, msgfmt; Debian: apt-get install gettext).
set -euo pipefail
cd "$(dirname "$0")/../.."
check=0
[ "${1:-}" = --check ] && check=1
for tool in mdbook mdbook-xgettext msgmerge msgfmt; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "update.sh: $tool is missing (see book/po/README.md)" >&2
        exit 1
    fi
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The messages are extracted from the sources as written, before `{{#include}}` is expanded:
# code and program outputs are the English book's, and the translation keeps each include line
# as it is (the Chinese build translates first, then expands them).
MDBOOK_BUILD__USE_DEFAULT_PREPROCESSORS=false \
    MDBOOK_OUTPUT='{"xgettext": {"pot-file": "messages.pot", "granularity": 0}}' \
    mdbook build book -d "$scratch/extracted" >/dev/null
pot=$(find "$scratch/extracted" -name messages.pot | head -n 1)
if [ -z "$pot" ]; then
    echo "update.sh: mdbook-xgettext wrote no messages.pot" >&2
    exit 1
fi

if [ "$check" = 0 ]; then
    cp "$pot" book/po/messages.pot
    msgmerge --quiet --update --backup=none --no-wrap book/po/zh-CN.po book/po/messages.pot
    po=book/po/zh-CN.po
else
    msgmerge --quiet --no-wrap -o "$scratch/zh-CN.po" book/po/zh-CN.po "$pot"
    po=$scratch/zh-CN.po
fi
stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null "$po" 2>&1)
echo "zh-CN.po: $stats"
if [ "$check" = 1 ] && grep -Eq 'untranslated|fuzzy' <<<"$stats"; then
    echo "update.sh: zh-CN.po is behind the English book: run bash book/po/update.sh and" \
        "translate the new and fuzzy messages (book/po/README.md)" >&2
    msgattrib --untranslated --no-wrap "$po" 2>/dev/null | grep -m 5 -A1 '^msgid' >&2 || true
    msgattrib --only-fuzzy --no-wrap "$po" 2>/dev/null | grep -m 5 -A1 '^msgid' >&2 || true
    exit 1
fi
