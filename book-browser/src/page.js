// What a reader sees on the page just loaded, measured in the browser: returned to the Rust
// side as JSON, which decides what is wrong.
const content = document.querySelector('#mdbook-content') || document.body;
const active = document.querySelector('#mdbook-sidebar a.active');
const box = (el) => el.getBoundingClientRect();
const scrollsSideways = (el) => {
  const overflow = getComputedStyle(el).overflowX;
  return overflow === 'auto' || overflow === 'scroll';
};
// Elements that stick out of the window on the right, not inside a code block or a table's
// wrapper that scrolls sideways and fits: only the outermost one of each. (The page's own
// content box scrolls too, but a reader who must scroll the whole text sideways has lost.)
const wide = [];
const allowed = (p) => (p.closest('pre') || p.classList.contains('table-wrapper'))
  && scrollsSideways(p) && box(p).right <= window.innerWidth + 1;
for (const el of content.querySelectorAll('*')) {
  const r = box(el);
  if (r.width === 0 || r.right <= window.innerWidth + 1) continue;
  let inside = false;
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    if (allowed(p) || wide.includes(p)) { inside = true; break; }
  }
  if (!inside) wide.push(el);
}
return {
  title: document.title,
  sidebar: active ? active.textContent.trim() : null,
  h1: [...content.querySelectorAll('h1')].map((h) => h.textContent.trim()),
  // (Not the copy mdBook keeps hidden for zooming a scaled-down figure.)
  images: [...content.querySelectorAll('img')].filter((img) => !img.closest('.img-wrapper')).map((img) => ({
    src: img.getAttribute('src'),
    width: box(img).width,
    height: box(img).height,
    loaded: img.complete && img.naturalWidth > 0,
  })),
  svgs: [...content.querySelectorAll('svg')]
    .filter((svg) => !svg.closest('button, .buttons, .fa-svg'))
    .map((svg) => ({ width: box(svg).width, height: box(svg).height })),
  links: [...content.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
  edition: (document.querySelector('.edition-link') || { getAttribute: () => null }).getAttribute('href'),
  innerWidth: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  wide: wide.slice(0, 5).map((el) => ({
    tag: el.tagName.toLowerCase(),
    class: el.className && el.className.baseVal === undefined ? el.className : '',
    text: (el.textContent || '').trim().slice(0, 60),
    right: Math.round(box(el).right),
  })),
};
