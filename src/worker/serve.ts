import { callsInFlight } from "./calls.ts";
import { type CallContext, type createHandlers, toWireError } from "./handlers.ts";
import type { ControlMessage, RequestMessage, ResponseMessage } from "./protocol.ts";

type Handlers = ReturnType<typeof createHandlers>;

/**
 * Answers protocol messages with the handlers: each call gets its own AbortController (a cancel
 * message aborts it), progress and events are posted as they come, then the result or the error.
 */
export function serveProtocol(
  handlers: Handlers | Promise<Handlers>,
  post: (msg: ResponseMessage) => void,
): (msg: RequestMessage | ControlMessage) => Promise<void> {
  const calls = callsInFlight();
  return async (msg) => {
    if (msg.type === "cancel") return calls.cancel(msg.id);
    const ctx: CallContext = {
      signal: calls.start(msg.id),
      progress: (progress) => post({ type: "progress", id: msg.id, progress }),
      emit: (event) => post({ type: "event", id: msg.id, event }),
    };
    try {
      const all = await handlers;
      const handler = all[msg.method] as (p: unknown, c: CallContext) => Promise<unknown>;
      if (!handler) throw new Error(`unknown method ${msg.method}`);
      post({ type: "result", id: msg.id, result: await handler(msg.params, ctx) });
    } catch (err) {
      post({ type: "error", id: msg.id, error: toWireError(err) });
    } finally {
      calls.end(msg.id);
    }
  };
}
