import { useState } from 'react';
import type { IntegrityModels } from '../../shared/contract-integrity';
import { useAppStore } from '../store/store-context';
import { useQuery } from '../store/use-query';

const NO_EDIT = { add: [], remove: [] };

/**
 * The base ↔ instruct table the model-substitution check uses (PostTrainBench's four pairs, and the user's, kept in
 * PTW_HOME): shown, extended, trimmed. The same table as `ptw integrity models`.
 */
export function IntegrityModelsPanel() {
  const models = useQuery('integrity.models', NO_EDIT);
  const runCommand = useAppStore((s) => s.queries.run);
  const put = useAppStore((s) => s.queries.put);
  const [base, setBase] = useState('');
  const [instruct, setInstruct] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  const edit = async (change: { add?: { base: string; instruct: string }[]; remove?: string[] }): Promise<boolean> => {
    const result = await runCommand('integrity.models', { add: change.add ?? [], remove: change.remove ?? [] });
    if (!result.ok) {
      setProblem(result.error.message);
      return false;
    }
    setProblem(null);
    put('integrity.models', NO_EDIT, result.data satisfies IntegrityModels);
    return true;
  };
  const add = async (): Promise<void> => {
    if (await edit({ add: [{ base: base.trim(), instruct: instruct.trim() }] })) {
      setBase('');
      setInstruct('');
    }
  };

  const error = problem ?? models.error?.message ?? null;
  return (
    <details className="integrity-models" data-testid="integrity-models">
      <summary>Model pairs the substitution check compares against</summary>
      <p className="muted">
        final_model is compared with its base model and the base model’s instruct release, both from the host’s Hugging
        Face cache. Add a pair for another base model, or point a base at another instruct model.
      </p>
      {models.data ? (
        <table className="integrity-models-table">
          <thead>
            <tr>
              <th scope="col">Base</th>
              <th scope="col">Instruct</th>
              <th scope="col">From</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {models.data.pairs.map((p) => (
              <tr key={p.base} data-testid="integrity-models-row" data-source={p.source}>
                <td className="cell-mono">{p.base}</td>
                <td className="cell-mono">{p.instruct}</td>
                <td>{p.source === 'user' ? 'you' : 'PostTrainBench'}</td>
                <td>
                  {p.source === 'user' ? (
                    <button
                      type="button"
                      className="button button-quiet"
                      aria-label={`Remove ${p.base}`}
                      onClick={() => void edit({ remove: [p.base] })}
                    >
                      Remove
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        className="integrity-models-add"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <input
          type="text"
          placeholder="ORG/BASE"
          aria-label="Base model"
          value={base}
          onChange={(e) => setBase(e.target.value)}
        />
        <span aria-hidden="true">↔</span>
        <input
          type="text"
          placeholder="ORG/INSTRUCT"
          aria-label="Instruct model"
          value={instruct}
          onChange={(e) => setInstruct(e.target.value)}
        />
        <button type="submit" className="button" disabled={!base.trim() || !instruct.trim()}>
          Add pair
        </button>
      </form>
      {error ? (
        <p className="inline-error" role="alert" data-testid="integrity-models-error">
          {error}
        </p>
      ) : null}
      {models.data ? (
        <p className="muted">
          Kept in <span className="cell-mono">{models.data.file}</span>.
        </p>
      ) : null}
    </details>
  );
}
