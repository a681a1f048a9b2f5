import { useState, type FormEvent } from 'react';
import { BOROUGHS, type Filters } from './filters';

export function FilterBar({
  filters,
  problems,
  onChange,
}: {
  filters: Filters;
  /** Fields of the applied filters that do not read (filters.ts): marked invalid, with the reason as title. */
  problems: Partial<Record<keyof Filters, string>>;
  onChange(filters: Filters): void;
}) {
  const [draft, setDraft] = useState(filters);
  const invalid = (key: keyof Filters) =>
    problems[key] === undefined ? {} : { 'aria-invalid': true as const, title: problems[key] };
  const set = (key: keyof Filters) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: event.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onChange(draft);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Trip filters">
      <label>
        Borough
        <select name="borough" value={draft.borough} onChange={set('borough')} {...invalid('borough')}>
          <option value="">any</option>
          {BOROUGHS.map((borough) => (
            <option key={borough}>{borough}</option>
          ))}
        </select>
      </label>
      <label>
        Pickup ZIP
        <input
          name="zip"
          inputMode="numeric"
          pattern="\d{5}"
          value={draft.zip}
          onChange={set('zip')}
          size={6}
          {...invalid('zip')}
        />
      </label>
      <label>
        Fare from $
        <input
          name="fareMin"
          type="number"
          step="0.01"
          value={draft.fareMin}
          onChange={set('fareMin')}
          {...invalid('fareMin')}
        />
      </label>
      <label>
        to $
        <input
          name="fareMax"
          type="number"
          step="0.01"
          value={draft.fareMax}
          onChange={set('fareMax')}
          {...invalid('fareMax')}
        />
      </label>
      <label>
        Pickup from (New York)
        <input
          name="from"
          value={draft.from}
          onChange={set('from')}
          placeholder="2016-02-01T00:00"
          size={18}
          {...invalid('from')}
        />
      </label>
      <label>
        to
        <input
          name="to"
          value={draft.to}
          onChange={set('to')}
          placeholder="2016-02-02T00:00"
          size={18}
          {...invalid('to')}
        />
      </label>
      <button type="submit">Apply</button>
      <button
        type="button"
        onClick={() => {
          const cleared = { borough: '', zip: '', fareMin: '', fareMax: '', from: '', to: '' };
          setDraft(cleared);
          onChange(cleared);
        }}
      >
        Clear
      </button>
    </form>
  );
}
