// A link to the other edition in every page's menu bar: 中文 on the English book, English on
// the Chinese one, to the same page. The Chinese book is built into the English one's `zh-CN`
// folder (book/po/README.md), so the two are one directory apart.
(() => {
  const chinese = document.documentElement.lang.startsWith('zh');
  const page = window.location.pathname.split('/').pop() || 'index.html';
  const root = typeof path_to_root === 'string' ? path_to_root : '';
  const buttons = document.querySelector('#mdbook-menu-bar .right-buttons');
  if (!buttons) {
    return;
  }
  const link = document.createElement('a');
  link.href = chinese ? `${root}../${page}` : `${root}zh-CN/${page}`;
  link.textContent = chinese ? 'English' : '中文';
  link.title = chinese ? 'Read this page in English' : '阅读本页的中文版';
  link.lang = chinese ? 'en' : 'zh-CN';
  link.className = 'edition-link';
  link.style.cssText = 'font-size: 1.4rem; margin: 0 0.5rem; vertical-align: middle;';
  buttons.prepend(link);
})();
