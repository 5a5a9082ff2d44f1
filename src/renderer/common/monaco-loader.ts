import { withConstructedStyles } from './xterm-csp';
import { routeInlineStylesThroughCssom } from './monaco-csp';

/**
 * Monaco, loaded on first use (its own chunk: the rest of the app does not pay for it), with its editor worker as a
 * bundled same-origin file (`?worker`), which the CSP's `worker-src 'self'` allows.
 *
 * Monaco writes its dynamic CSS (theme token colours, decorations) into `<style>` elements through `textContent`,
 * which the CSP (`style-src 'self'`, no 'unsafe-inline') drops. Creating and updating editors therefore runs inside
 * {@link withConstructedStyles} (the same answer the live terminal gives xterm): those elements feed constructed
 * style sheets, which CSSOM allows. Its static CSS is bundled into the app's stylesheet by Vite.
 */

export type MonacoApi = typeof import('monaco-editor/editor/editor.api');

let loading: Promise<MonacoApi> | undefined;

export function loadMonaco(): Promise<MonacoApi> {
  loading ??= (async () => {
    const [{ default: EditorWorker }, api] = await Promise.all([
      import('monaco-editor/editor/editor.worker?worker'),
      import('monaco-editor/editor/editor.api'),
    ]);
    routeInlineStylesThroughCssom(window);
    (globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
      getWorker: () => new EditorWorker({ name: 'monaco-editor-worker' }),
    };
    return api;
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/** Sheets Monaco asked for, for the lifetime of the page (its theme service is global). */
export const monacoSheets = new Set<CSSStyleSheet>();

/** Runs Monaco work that may create style elements with their CSS routed to constructed sheets. */
export function withMonacoStyles<T>(work: () => T): T {
  return withConstructedStyles(document, monacoSheets, work);
}
