/**
 * xterm.js writes part of its CSS at run time in two ways the app's CSP (`style-src 'self'`, no 'unsafe-inline')
 * refuses: `<style>` elements filled through `textContent` (the viewport and the DOM renderer's theme and cell
 * sizes) and `setAttribute('style', …)` on cells (the DOM renderer's true-colour cells). Both would be dropped with
 * a CSP violation, leaving a broken DOM renderer. CSSOM is not governed by the CSP, so here the same CSS goes
 * through constructed style sheets (`document.adoptedStyleSheets`) and `element.style.cssText` instead; the policy
 * itself stays strict.
 */

/**
 * Runs `create` (xterm's `open`, a renderer switch) with `document.createElement('style')` answering an inert
 * element whose text feeds a constructed sheet. The sheets are dropped when xterm removes its element, or by the
 * returned dispose.
 */
export function withConstructedStyles<T>(doc: Document, sheets: Set<CSSStyleSheet>, create: () => T): T {
  const original = doc.createElement as (tagName: string, options?: ElementCreationOptions) => HTMLElement;
  const patched = (tagName: string, options?: ElementCreationOptions): HTMLElement => {
    if (tagName.toLowerCase() !== 'style') return original.call(doc, tagName, options);
    return sheetBackedElement(doc, original.call(doc, 'template'), sheets);
  };
  Object.defineProperty(doc, 'createElement', { value: patched, configurable: true, writable: true });
  try {
    return create();
  } finally {
    // Back to the prototype's method.
    Reflect.deleteProperty(doc, 'createElement');
  }
}

function sheetBackedElement(doc: Document, element: HTMLElement, sheets: Set<CSSStyleSheet>): HTMLElement {
  const view = doc.defaultView;
  if (!view) return element;
  const sheet = new view.CSSStyleSheet();
  sheets.add(sheet);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  let text = '';
  Object.defineProperty(element, 'textContent', {
    configurable: true,
    get: () => text,
    set: (value: string | null) => {
      text = value ?? '';
      sheet.replaceSync(text);
    },
  });
  const remove = element.remove.bind(element);
  element.remove = () => {
    remove();
    dropSheets(doc, new Set([sheet]));
    sheets.delete(sheet);
  };
  return element;
}

export function dropSheets(doc: Document, sheets: Set<CSSStyleSheet>): void {
  if (sheets.size === 0) return;
  doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => !sheets.has(s));
  sheets.clear();
}

let styleAttributesPatched = false;

/**
 * Lets `setAttribute('style', css)` on HTML elements apply through CSSOM (`style.cssText`), which the CSP allows:
 * the DOM renderer colours true-colour cells this way. Installed once, when a terminal first uses that renderer;
 * the app itself never sets style attributes from untrusted text (React sets styles through CSSOM too).
 */
export function routeStyleAttributesThroughCssom(win: Window & typeof globalThis): void {
  if (styleAttributesPatched) return;
  styleAttributesPatched = true;
  const proto = win.Element.prototype;
  const setAttribute = proto.setAttribute;
  proto.setAttribute = function (this: Element, name: string, value: string): void {
    if (name.toLowerCase() === 'style' && this instanceof win.HTMLElement) {
      this.style.cssText = value;
      return;
    }
    setAttribute.call(this, name, value);
  };
}
