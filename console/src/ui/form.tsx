// Labelled controls and the submit/busy/error cycle of a form or an action button.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useId, useState } from "preact/hooks";

import { apiError, type ApiError } from "../api/errors";
import { ErrorNotice } from "./states";

export function Field({
  label,
  hint,
  children,
}: {
  label: string;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id, hintId)}
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "value" | "onInput" | "label"> & {
  label: string;
  hint?: string;
  value: string;
  onValue: (value: string) => void;
};

export function TextField({ label, hint, value, onValue, ...rest }: InputProps) {
  return (
    <Field label={label} hint={hint}>
      {(id, describedBy) => (
        <input
          {...rest}
          id={id}
          aria-describedby={describedBy}
          value={value}
          onInput={(event) => onValue((event.target as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

export function SelectField<T extends string>({
  label,
  value,
  options,
  onValue,
  hint,
}: {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onValue: (value: T) => void;
  hint?: string;
}) {
  return (
    <Field label={label} hint={hint}>
      {(id, describedBy) => (
        <select id={id} aria-describedby={describedBy} value={value} onChange={(event) => onValue((event.target as HTMLSelectElement).value as T)}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export interface Action {
  busy: boolean;
  error: ApiError | undefined;
  run: (work: () => Promise<void>) => Promise<boolean>;
  clear: () => void;
}

/** One action at a time; its failure kept to show (the API's translated message). */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const run = useCallback(async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (failure) {
      setError(apiError(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

export function ActionError({ action }: { action: Action }) {
  return action.error ? <ErrorNotice error={action.error} /> : null;
}

export function Form({
  onSubmit,
  children,
  label,
  class: className,
}: {
  onSubmit: () => void;
  children: ComponentChildren;
  label?: string;
  class?: string;
}) {
  return (
    <form
      class={className ?? "form"}
      aria-label={label}
      noValidate={false}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}
