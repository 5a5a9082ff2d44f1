import { useEffect, useRef, useState } from 'react';
import { loadMonaco, withMonacoStyles } from './monaco-loader';

/** Whether the app shows dark (the user's pick, else the OS's), for Monaco's theme. */
export function isDarkTheme(): boolean {
  const theme = document.documentElement.dataset.theme;
  return theme ? theme === 'dark' : window.matchMedia?.('(prefers-color-scheme: dark)').matches === true;
}

/**
 * Two texts side by side in Monaco's diff editor, read-only: a config file of two checkpoints, a task file the agent
 * changed against its clean copy. The texts come from the host (the agent wrote them): Monaco renders them as text
 * into its own DOM, never as HTML.
 */
export function TextDiffEditor({
  name,
  original,
  modified,
  dark,
  testId,
  className,
  sides = 'A on the left, B on the right',
  onlyChanges = false,
}: {
  name: string;
  original: string;
  modified: string;
  dark: boolean;
  testId: string;
  /** Sizes the editor (it fills its box). */
  className: string;
  /** What the two sides are, for the label. */
  sides?: string;
  /** Fold the unchanged regions (a long file with a few changed lines opens at them). */
  onlyChanges?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let disposed = false;
    let dispose = (): void => undefined;
    loadMonaco().then(
      (monaco) => {
        if (disposed || !host.current) return;
        // Plain text: only the core editor is bundled, no language packs.
        const language = 'plaintext';
        withMonacoStyles(() => {
          const a = monaco.editor.createModel(original, language);
          const b = monaco.editor.createModel(modified, language);
          const editor = monaco.editor.createDiffEditor(host.current!, {
            readOnly: true,
            originalEditable: false,
            automaticLayout: true,
            renderSideBySide: true,
            minimap: { enabled: false },
            scrollBeyondLastLine: false,
            wordWrap: 'on',
            diffWordWrap: 'on',
            hideUnchangedRegions: { enabled: onlyChanges },
            theme: dark ? 'vs-dark' : 'vs',
          });
          editor.setModel({ original: a, modified: b });
          dispose = () => {
            editor.dispose();
            a.dispose();
            b.dispose();
          };
        });
        setReady(true);
      },
      (err: unknown) => {
        if (!disposed) setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      disposed = true;
      dispose();
    };
  }, [name, original, modified, dark, onlyChanges]);

  if (error) {
    return (
      <p className="inline-error" role="alert">
        The diff editor could not load ({error}).
      </p>
    );
  }
  return (
    <div
      ref={host}
      className={className}
      data-testid={testId}
      data-ready={ready ? 'true' : 'false'}
      aria-label={`${name}: ${sides}`}
    />
  );
}
