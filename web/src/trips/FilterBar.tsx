import { useState, type FormEvent } from 'react';
import { BOROUGHS, filtersToSearch, type Filters } from './filters';

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
  // The applied filters changed (Apply, Clear, the browser's back button): the boxes show them. The bar used to
  // be remounted for it, which dropped the keyboard focus to the page's start.
  const applied = filtersToSearch(filters);
  const [shown, setShown] = useState(applied);
  if (shown !== applied) {
    setShown(applied);
    setDraft(filters);
  }
  const invalid = (key: keyof Filters) =>
    problems[key] === undefined ? {} : { 'aria-invalid': true as const, title: problems[key] };
  const set = (key: keyof Filters) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: event.target.value });
  // The time format as the fields' description, unless the field has a problem: then its reason (the title) is.
  const formatHint = (key: keyof Filters) => (problems[key] === undefined ? { 'aria-describedby': 'time-format' } : {});
  /** What every input of the bar has: its field's name, value, change handler and problem. */
  const bound = (key: keyof Filters) => ({ name: key, value: draft[key], onChange: set(key), ...invalid(key) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onChange(draft);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Trip filters">
      <label>
        Borough
        <select {...bound('borough')}>
          <option value="">any</option>
          {BOROUGHS.map((borough) => (
            <option key={borough}>{borough}</option>
          ))}
        </select>
      </label>
      <label>
        Pickup ZIP
        {/* The title is what the browser adds to "Please match the requested format". */}
        <input inputMode="numeric" pattern="\d{5}" size={6} title="5 digits, e.g. 10001" {...bound('zip')} />
      </label>
      <label>
        Fare from $
        <input type="number" step="0.01" {...bound('fareMin')} />
      </label>
      <label>
        to ${/* Short on screen beside "Fare from $"; the full name for a screen reader, which hears fields alone. */}
        <input type="number" step="0.01" aria-label="Fare to $" {...bound('fareMax')} />
      </label>
      <label>
        Pickup from (New York)
        <input placeholder="2016-02-01T00:00" size={18} {...formatHint('from')} {...bound('from')} />
      </label>
      <label>
        {/* Exclusive (pickupAt.lt), unlike the fare's "to": a day is from its midnight to the next. */}
        before
        <input
          placeholder="2016-02-02T00:00"
          size={18}
          aria-label="Pickup before (New York)"
          {...formatHint('to')}
          {...bound('to')}
        />
      </label>
      <span id="time-format" className="visually-hidden">
        Format: year-month-day T hour:minute, New York time, e.g. 2016-02-01T00:00
      </span>
      <button type="submit">Apply</button>
      <button
        type="button"
        onClick={(event) => {
          // A number box holding text it cannot read already has the value '', so setting '' left the text on
          // screen, and the browser then refused Apply ("Please enter a number"): clear what the boxes show too.
          for (const input of event.currentTarget.form?.querySelectorAll('input') ?? []) input.value = '';
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
