// The legibility of the page's SVG figures on the current theme: for each figure, the
// lowest contrast between a text's colour and what is behind it (a shape under it, or the
// figure's own background rectangle if it has one that covers it, or the page's background). WCAG's contrast
// ratio: 1 (none) to 21 (black on white). Asynchronous (the figures are fetched):
// WebDriver's `execute_async` passes the callback last.
const done = arguments[arguments.length - 1];
const canvas = document.createElement('canvas').getContext('2d');
const rgb = (colour) => {
  canvas.fillStyle = '#000';
  canvas.fillStyle = colour;
  const c = canvas.fillStyle;
  if (c.startsWith('#')) {
    return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  }
  const m = c.match(/[\d.]+/g).map(Number);
  return m[3] === 0 ? null : m.slice(0, 3);
};
const luminance = ([r, g, b]) => {
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
};
const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
const page = rgb(getComputedStyle(document.querySelector('.content') || document.body).backgroundColor)
  || rgb(getComputedStyle(document.documentElement).backgroundColor) || [255, 255, 255];
const figures = [...document.querySelectorAll('#mdbook-content img')]
  .filter((img) => (img.getAttribute('src') || '').endsWith('.svg') && !img.closest('.img-wrapper'));
// What is behind a text: the last shape drawn before it (in document order) that covers its
// middle, with a fill; the figure's background otherwise. The figure is laid out off-screen
// for its boxes to be measured.
const shapes = 'rect, circle, ellipse, polygon, path';
Promise.all(figures.map(async (img) => {
  const text = await (await fetch(img.src)).text();
  const svg = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
  const holder = document.createElement('div');
  holder.style.cssText = 'position: absolute; left: -20000px; top: 0;';
  holder.appendChild(document.importNode(svg, true));
  document.body.appendChild(holder);
  const placed = holder.querySelector('svg');
  const width = parseFloat(placed.getAttribute('width'));
  const first = placed.querySelector('rect');
  const covers = first && !first.getAttribute('x') && !first.getAttribute('y')
    && (first.getAttribute('width') === '100%' || parseFloat(first.getAttribute('width')) >= width);
  const fill = covers ? first.getAttribute('fill') : null;
  const figure = (fill && fill !== 'none' && rgb(fill)) || page;
  const all = [...placed.querySelectorAll(`${shapes}, text`)];
  let lowest = 21;
  let worst = null;
  all.forEach((t, i) => {
    if (t.tagName !== 'text') return;
    let colour = null;
    for (let e = t; e && e !== placed.parentElement && !colour; e = e.parentElement) colour = e.getAttribute('fill');
    const c = rgb(colour || '#000');
    if (!c) return;
    const b = t.getBBox();
    const [x, y] = [b.x + b.width / 2, b.y + b.height / 2];
    let behind = figure;
    for (let j = i - 1; j >= 0; j--) {
      const s = all[j];
      if (s.tagName === 'text' || s === first) continue;
      const f = s.getAttribute('fill');
      if (!f || f === 'none') continue;
      const sb = s.getBBox();
      if (x >= sb.x && x <= sb.x + sb.width && y >= sb.y && y <= sb.y + sb.height) {
        behind = rgb(f) || figure;
        break;
      }
    }
    const ratio = contrast(c, behind);
    if (ratio < lowest) { lowest = ratio; worst = (t.textContent || '').trim().slice(0, 40); }
  });
  holder.remove();
  const background = fill && fill !== 'none' ? 'its own' : "the page's";
  return { src: img.getAttribute('src'), lowest, worst, background };
})).then(done, (e) => done({ error: String(e) }));
