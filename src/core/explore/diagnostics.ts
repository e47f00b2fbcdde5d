import { type Diagnostic, diagnoseDockerfile } from "../dockerfile/diagnose.ts";

export type { Diagnostic };

/** What the editor underlines: every diagnostic, its suggestion folded into the message. */
export function editorDiagnostics(text: string, buildArgs?: Record<string, string>): Diagnostic[] {
  return diagnoseDockerfile(text, buildArgs ? { buildArgs } : {}).diagnostics.map((d) =>
    d.suggestion ? { ...d, message: `${d.message} (did you mean ${d.suggestion}?)` } : d,
  );
}
