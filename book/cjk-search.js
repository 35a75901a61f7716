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
})();
