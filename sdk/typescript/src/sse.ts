/** Server-sent events (WHATWG HTML, "Parsing an event stream"), line by line. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export class SseParser {
  lastId: string | undefined;
  #data: string[] = [];
  #event = "";

  constructor(lastId?: string) {
    this.lastId = lastId;
  }

  feed(line: string): SseEvent | undefined {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "") {
      if (this.#data.length === 0) {
        this.#event = "";
        return undefined;
      }
      const ev = { id: this.lastId, event: this.#event || "message", data: this.#data.join("\n") };
      this.#data = [];
      this.#event = "";
      return ev;
    }
    if (line.startsWith(":")) return undefined;
    const i = line.indexOf(":");
    const name = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") this.#data.push(value);
    else if (name === "event") this.#event = value;
    else if (name === "id" && !value.includes("\0")) this.lastId = value;
    return undefined;
  }
}

/** The lines of a streamed body, as they arrive. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}
