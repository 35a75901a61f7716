//! The translations of a gettext PO file, for the Chinese edition's expected titles: each
//! `msgid` with its `msgstr` (an empty `msgstr`, untranslated, is left out).

use std::collections::HashMap;

/// `msgid` to `msgstr`, for every translated message of `po`.
pub fn translations(po: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let (mut id, mut text) = (None::<String>, None::<String>);
    let mut into_text = false;
    let mut finish = |id: &mut Option<String>, text: &mut Option<String>| {
        if let (Some(id), Some(text)) = (id.take(), text.take())
            && !id.is_empty()
            && !text.is_empty()
        {
            map.insert(id, text);
        }
    };
    for line in po.lines() {
        if let Some(rest) = line.strip_prefix("msgid ") {
            finish(&mut id, &mut text);
            id = Some(unquote(rest));
            into_text = false;
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            text = Some(unquote(rest));
            into_text = true;
        } else if line.starts_with('"') {
            let part = unquote(line);
            let target = if into_text { &mut text } else { &mut id };
            if let Some(s) = target.as_mut() {
                s.push_str(&part);
            }
        }
    }
    finish(&mut id, &mut text);
    map
}

/// The string inside a quoted PO line, unescaped.
fn unquote(quoted: &str) -> String {
    let inner = quoted.trim().trim_start_matches('"').trim_end_matches('"');
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One-line and multi-line messages, escapes; untranslated ones left out.
    #[test]
    fn messages_and_their_translations() {
        let po = "msgid \"\"\nmsgstr \"header\"\n\nmsgid \"Step 1: Blocking\"\nmsgstr \"第 1 步：阻塞\"\n\n\
                  msgid \"\"\n\"a \\\"long\\\" \"\n\"one\"\nmsgstr \"\"\n\"长\"\n\"的\"\n\n\
                  msgid \"untranslated\"\nmsgstr \"\"\n";
        let map = translations(po);
        assert_eq!(map["Step 1: Blocking"], "第 1 步：阻塞");
        assert_eq!(map["a \"long\" one"], "长的");
        assert!(!map.contains_key("untranslated"));
    }
}
