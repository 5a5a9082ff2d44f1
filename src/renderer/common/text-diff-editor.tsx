import { useEffect, useRef, useState } from 'react';
import { loadMonaco, withMonacoStyles } from './monaco-loader';

/**
 * One config file of two checkpoints side by side in Monaco's diff editor, read-only. The texts come from the host
 * (the agent wrote them): Monaco renders them as text into its own DOM, never as HTML.
 */
export function ConfigDiffEditor({
  name,
  original,
  modified,
  dark,
}: {
  name: string;
  original: string;
  modified: string;
  dark: boolean;
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
  }, [name, original, modified, dark]);

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
      className="ckpt-config-editor"
      data-testid="ckpt-config-editor"
      data-ready={ready ? 'true' : 'false'}
      aria-label={`${name}: A on the left, B on the right`}
    />
  );
}
