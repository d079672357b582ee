/** Labelled text inputs bound to the keys of a form's state: the filter forms and the address form. */
export function fieldsOf<F extends Record<string, string | undefined>>(
  form: F,
  setForm: (f: F) => void,
  prefix: string,
) {
  return (k: keyof F & string, label: string, attrs: { type?: string; placeholder?: string } = {}) => (
    <div>
      <label for={`${prefix}-${k}`}>{label}</label>
      <input
        id={`${prefix}-${k}`}
        {...attrs}
        value={form[k] ?? ''}
        onInput={(e) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })}
      />
    </div>
  );
}
