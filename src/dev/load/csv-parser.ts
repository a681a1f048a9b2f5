/**
 * Incremental RFC 4180 CSV parser: feed it text as it is read; it calls back
 * with each complete record and the line it started on (for error messages).
 * Records are handed over one by one rather than collected per chunk, so they
 * die young and the garbage collector stays cheap on million-line files. Handles
 * quoted fields with commas, doubled quotes and newlines, and CRLF endings.
 * Blank lines are skipped.
 */

export interface CsvRecord {
  fields: string[];
  /** 1-based line number of the record's first character. */
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

export class CsvParser {
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  /** A quote ended the last chunk inside a quoted field: closing quote, or the first of a doubled pair. */
  private pendingQuote = false;
  /** The current field was quoted and its closing quote has been seen. */
  private closedQuote = false;
  /** The current record has content (distinguishes a blank line from a record of one empty field). */
  private started = false;
  private line = 1;
  private recordLine = 1;

  /** Parses the next piece of text, emitting each record it completes. */
  push(text: string, emit: (record: CsvRecord) => void): void {
    let fieldStart = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (c === QUOTE) {
          this.field += '"';
          fieldStart = i + 1;
          continue;
        }
        this.inQuotes = false;
        this.closedQuote = true;
      }
      if (this.inQuotes) {
        if (c === QUOTE) {
          this.field += text.slice(fieldStart, i);
          fieldStart = i + 1;
          if (i + 1 === text.length) {
            this.pendingQuote = true;
          } else if (text.charCodeAt(i + 1) === QUOTE) {
            this.field += '"';
            fieldStart = i + 2;
            i++;
          } else {
            this.inQuotes = false;
            this.closedQuote = true;
          }
        } else if (c === NEWLINE) {
          this.line++;
        }
        continue;
      }
      if (c === COMMA) {
        this.fields.push(this.field + text.slice(fieldStart, i));
        this.resetField();
        this.started = true;
        fieldStart = i + 1;
      } else if (c === NEWLINE) {
        let last = this.field + text.slice(fieldStart, i);
        if (!this.closedQuote && last.endsWith('\r')) last = last.slice(0, -1);
        if (this.started || last !== '' || this.closedQuote) {
          this.fields.push(last);
          emit({ fields: this.fields, line: this.recordLine });
        }
        this.fields = [];
        this.resetField();
        this.started = false;
        this.line++;
        this.recordLine = this.line;
        fieldStart = i + 1;
      } else if (this.closedQuote) {
        // Only the CR of a CRLF may follow a closing quote; it is dropped.
        if (c !== RETURN) {
          throw new CsvSyntaxError(this.line, `text after the closing quote of field ${this.fields.length + 1}`);
        }
        fieldStart = i + 1;
      } else if (c === QUOTE) {
        if (this.field !== '' || i > fieldStart) {
          throw new CsvSyntaxError(this.line, `quote inside unquoted field ${this.fields.length + 1}`);
        }
        this.inQuotes = true;
        this.started = true;
        fieldStart = i + 1;
      } else if (c !== RETURN) {
        this.started = true;
      }
    }
    if (!this.pendingQuote) this.field += text.slice(fieldStart);
  }

  /** Ends the input, emitting the last record when the text did not end with a newline. */
  end(emit: (record: CsvRecord) => void): void {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      this.inQuotes = false;
      this.closedQuote = true;
    }
    if (this.inQuotes) {
      throw new CsvSyntaxError(this.recordLine, 'quoted field is not closed before the end of the file');
    }
    this.push('\n', emit);
  }

  private resetField(): void {
    this.field = '';
    this.closedQuote = false;
  }
}
