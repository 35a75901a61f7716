// Chinese words in the search box (the Chinese edition only). mdBook's search splits a query at
// spaces, and its trimmer keeps ASCII letters and digits only, so a Chinese query came to
// nothing. Here a query is split the way book/po/cjk_search.py split the Chinese edition's
// text when it added to the index: each run of Chinese characters into its bigrams (绿色线程:
// 绿色, 色线, 线程), Latin words apart from the Chinese around them. Loaded before the index
// is (on the first search), so the index's pipeline takes the trimmer registered here.
(() => {
  if (!document.documentElement.lang.startsWith('zh') || typeof elasticlunr === 'undefined') {
    return;
  }
  const han = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
  const wide = /[\u3000-\u303f\uff00-\uffef\u2010-\u206f]+/g;
  const plain = elasticlunr.tokenizer;
  const split = (query) => {
    const words = [];
    for (const word of plain(query)) {
      if (!word.match(han) && !word.match(wide)) {
        words.push(word);
        continue;
      }
      for (const run of word.match(han) || []) {
        const chars = [...run];
        if (chars.length === 1) {
          words.push(run);
        }
        for (let i = 0; i + 1 < chars.length; i++) {
          words.push(chars[i] + chars[i + 1]);
        }
      }
      for (const piece of word.replace(han, ' ').replace(wide, ' ').split(' ')) {
        if (piece) {
          words.push(piece);
        }
      }
    }
    return words;
  };
  // The plain tokenizer reads its separator from `elasticlunr.tokenizer.seperator`: the
  // replacement carries it (and the functions that set it).
  elasticlunr.tokenizer = Object.assign(split, plain);
  // The default trimmer strips everything but ASCII letters, digits and `_` from a word's
  // ends, which removes a Chinese word entirely; this one keeps letters of any script.
  const trimmer = (token) =>
    token.replace(/^[^\p{L}\p{N}_]+/u, '').replace(/[^\p{L}\p{N}_]+$/u, '');
  elasticlunr.Pipeline.registerFunction(trimmer, 'trimmer');
  elasticlunr.trimmer = trimmer;

  // Teasers. mdBook picks the part of a section to show under a result by words split at
  // spaces, so for a Chinese query it shows the section's start with nothing marked. Once the
  // results are in, each teaser is made again around the first place the query's Chinese
  // appears in the section (the longest run of it found, else a pair of its characters), with
  // that place marked.
  const results = document.getElementById('mdbook-searchresults');
  const bar = document.getElementById('mdbook-searchbar');
  const escape = (text) =>
    text.replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const place = (body, runs) => {
    for (const run of [...runs].sort((a, b) => b.length - a.length)) {
      const at = body.indexOf(run);
      if (at >= 0) {
        return [at, run.length];
      }
    }
    for (const run of runs) {
      const chars = [...run];
      for (let i = 0; i + 1 < chars.length; i++) {
        const at = body.indexOf(chars[i] + chars[i + 1]);
        if (at >= 0) {
          return [at, chars[i].length + chars[i + 1].length];
        }
      }
    }
    return null;
  };
  const reteaser = () => {
    const runs = bar.value.match(han);
    const search = window.search || {};
    const docs = search.index && search.index.documentStore.docs;
    if (!runs || !docs || !search.doc_urls) {
      return;
    }
    for (const item of results.children) {
      const link = item.querySelector('a');
      const teaser = item.querySelector('.teaser');
      if (!link || !teaser || teaser.dataset.cjk) {
        continue;
      }
      const [path, fragment] = link.getAttribute('href').split('#');
      const page = path.split('?')[0].split('/').pop();
      const ref = search.doc_urls.indexOf(fragment ? `${page}#${fragment}` : page);
      const body = ref >= 0 && docs[ref] ? docs[ref].body || '' : '';
      const found = place(body, runs);
      if (!found) {
        continue;
      }
      const [at, length] = found;
      const start = Math.max(0, at - 30);
      const end = Math.min(body.length, at + length + 70);
      teaser.innerHTML = (start > 0 ? '…' : '') + escape(body.slice(start, at))
        + '<em>' + escape(body.slice(at, at + length)) + '</em>'
        + escape(body.slice(at + length, end)) + (end < body.length ? '…' : '');
      teaser.dataset.cjk = 'remade';
    }
  };
  if (results && bar) {
    new MutationObserver(reteaser).observe(results, { childList: true });
  }
})();
