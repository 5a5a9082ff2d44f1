import { routeStyleAttributesThroughCssom } from '../common/xterm-csp';

/**
 * Monaco draws its lines as HTML strings carrying inline `style="top:…px;height:…px"` attributes (view lines,
 * overlays, line numbers), assigned through `innerHTML` / `insertAdjacentHTML`, and sets some `style` attributes
 * with `setAttribute`. The app's CSP (`style-src 'self'`, no 'unsafe-inline') refuses every one of those, which
 * misplaces lines. CSSOM (`element.style.cssText`) is not governed by the CSP, so the same declarations are applied
 * that way instead and the policy itself stays strict:
 * - `setAttribute('style', …)` goes through CSSOM (the live terminal installs the same route for xterm);
 * - HTML strings with `style="…"` have those attributes renamed to `data-ptw-style` before parsing, then each is
 *   applied as `style.cssText` and removed. Only attribute syntax changes: text content with `style="` is escaped
 *   by the HTML's producer (`&quot;`), so it never matches.
 * Installed once, when the first diff editor opens.
 */

const STYLE_ATTRIBUTE = / style="([^"]*)"/g;
const PARKED = 'data-ptw-style';
let installed = false;

function applyParked(root: ParentNode | null): void {
  if (!root) return;
  for (const el of Array.from(root.querySelectorAll<HTMLElement>(`[${PARKED}]`))) {
    el.style.cssText = el.getAttribute(PARKED) ?? '';
    el.removeAttribute(PARKED);
  }
}

export function routeInlineStylesThroughCssom(win: Window & typeof globalThis): void {
  if (installed) return;
  installed = true;
  routeStyleAttributesThroughCssom(win);
  const proto = win.Element.prototype;
  const inner = Object.getOwnPropertyDescriptor(proto, 'innerHTML');
  if (inner?.set && inner.get) {
    const set = inner.set;
    Object.defineProperty(proto, 'innerHTML', {
      configurable: true,
      enumerable: inner.enumerable ?? true,
      get: inner.get,
      set(this: Element, value: unknown) {
        const text = String(value);
        if (!text.includes(' style="')) return set.call(this, value);
        set.call(this, text.replace(STYLE_ATTRIBUTE, ` ${PARKED}="$1"`));
        applyParked(this);
      },
    });
  }
  const insertAdjacentHTML = proto.insertAdjacentHTML;
  proto.insertAdjacentHTML = function (this: Element, position: InsertPosition, html: string): void {
    const text = String(html);
    if (!text.includes(' style="')) return insertAdjacentHTML.call(this, position, html);
    insertAdjacentHTML.call(this, position, text.replace(STYLE_ATTRIBUTE, ` ${PARKED}="$1"`));
    applyParked(this.parentNode ?? this);
  };
}
