import { type FormEvent, useEffect, useId, useState } from "react";
import { useAppStore } from "../../store/index.ts";
import type { RegistryRequestOptions } from "../../store/registry-slice.ts";
import "./registry.css";

type FormKind = "pull" | "push";

/** The top bar's `Pull` button: opens the pull form under the top bar. */
export function PullControl() {
  const open = useAppStore((s) => s.registry.form === "pull");
  const setForm = useAppStore((s) => s.openRegistryForm);
  const running = useAppStore((s) => s.registry.transfer?.running ?? false);
  return (
    <button
      type="button"
      className="button-quiet"
      aria-expanded={open}
      aria-controls={open ? "registry-form" : undefined}
      disabled={running}
      title="Pull an image from a registry"
      onClick={() => setForm(open ? undefined : "pull")}
    >
      Pull
    </button>
  );
}

/** The `Push` button on the shown image (beside Run, over its layers): opens the push form. */
export function PushControl() {
  const open = useAppStore((s) => s.registry.form === "push");
  const setForm = useAppStore((s) => s.openRegistryForm);
  const image = useAppStore((s) => s.explorer.image);
  const running = useAppStore((s) => s.registry.transfer?.running ?? false);
  if (!image) return null;
  const imageName = image.image.names[0] ?? image.image.id.slice(7, 19);
  return (
    <button
      type="button"
      className="button-quiet"
      aria-expanded={open}
      aria-controls={open ? "registry-form" : undefined}
      disabled={running}
      title={`Push ${imageName} to a registry`}
      onClick={() => setForm(open ? undefined : "push")}
    >
      Push
    </button>
  );
}

/** The open Pull or Push form, full width under the top bar (one at a time). */
export function RegistryFormBar() {
  const form = useAppStore((s) => s.registry.form);
  const setForm = useAppStore((s) => s.openRegistryForm);
  const image = useAppStore((s) => s.explorer.image);
  const pull = useAppStore((s) => s.pullFromRegistry);
  const push = useAppStore((s) => s.pushToRegistry);
  const loadLogins = useAppStore((s) => s.loadLogins);
  useEffect(() => {
    if (form) void loadLogins();
  }, [form, loadLogins]);
  if (form === "pull")
    return (
      <RegistryForm
        kind="pull"
        onCancel={() => setForm(undefined)}
        onSubmit={(reference, options) => {
          setForm(undefined);
          void pull(reference, options);
        }}
      />
    );
  if (form === "push" && image)
    return (
      <RegistryForm
        kind="push"
        imageName={image.image.names[0] ?? image.image.id.slice(7, 19)}
        onCancel={() => setForm(undefined)}
        onSubmit={(reference, options) => {
          setForm(undefined);
          void push(image.image.id, reference, options);
        }}
      />
    );
  return null;
}

/** The form of a pull or a push: the reference, and optional credentials and plain HTTP. */
function RegistryForm({
  kind,
  imageName,
  onSubmit,
  onCancel,
}: {
  kind: FormKind;
  imageName?: string | undefined;
  onSubmit: (reference: string, options: RegistryRequestOptions) => void;
  onCancel: () => void;
}) {
  const logins = useAppStore((s) => s.registry.logins);
  const forget = useAppStore((s) => s.forgetLogin);
  const [reference, setReference] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(false);
  const [allowHttp, setAllowHttp] = useState(false);
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const ref = reference.trim();
    if (!ref) return;
    onSubmit(ref, {
      ...(username ? { login: { username, password, remember } } : {}),
      ...(allowHttp ? { allowHttp } : {}),
    });
  };
  return (
    <form
      id="registry-form"
      className="registry-form"
      aria-label={kind === "pull" ? "Pull image" : "Push image"}
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Escape") onCancel();
      }}
    >
      <p className="muted registry-form-intro">
        {kind === "pull"
          ? "Pull an image from a registry into this browser's store: only the layers it lacks move."
          : `Push ${imageName} to a registry: only the layers it lacks are sent.`}
      </p>
      <label className="registry-field registry-reference">
        <span>Image reference</span>
        <input
          type="text"
          // The form opens to be typed in.
          // biome-ignore lint/a11y/noAutofocus: the person just asked for this form
          autoFocus
          required
          spellCheck={false}
          autoComplete="off"
          placeholder="127.0.0.1:5000/example:v1"
          value={reference}
          onChange={(e) => setReference(e.target.value)}
        />
      </label>
      <details className="registry-login">
        <summary>Sign in (optional)</summary>
        <label className="registry-field">
          <span>User name</span>
          <input
            type="text"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="registry-field">
          <span>Password or token</span>
          <input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label className="registry-check">
          <input
            type="checkbox"
            checked={remember}
            aria-describedby={`${id}-remember`}
            onChange={(e) => setRemember(e.target.checked)}
          />
          <span>Remember</span>
        </label>
        <p className="muted registry-note" id={`${id}-remember`}>
          Without it, the password is kept in memory until this tab closes. With it, it is stored unencrypted
          in this browser's storage (IndexedDB) until you forget it.
        </p>
        {logins.length > 0 && (
          <ul className="registry-logins" aria-label="Signed in">
            {logins.map((l) => (
              <li key={l.registry}>
                {l.registry} as {l.username}
                {l.remembered ? " (remembered)" : " (this session)"}{" "}
                <button
                  type="button"
                  className="button-quiet"
                  aria-label={`Forget ${l.registry}`}
                  onClick={() => void forget(l.registry)}
                >
                  Forget
                </button>
              </li>
            ))}
          </ul>
        )}
      </details>
      <div className="registry-http">
        <label className="registry-check">
          <input type="checkbox" checked={allowHttp} onChange={(e) => setAllowHttp(e.target.checked)} />
          <span>Allow plain HTTP for this host</span>
        </label>
        <p className="muted registry-note">
          Loopback registries (localhost, 127.0.0.1) always use plain HTTP, as Docker does; other hosts use
          HTTPS unless this is ticked.
        </p>
      </div>
      <div className="registry-form-actions">
        <button type="submit" className="button-primary">
          {kind === "pull" ? "Start pull" : "Start push"}
        </button>
        <button type="button" className="button-quiet" onClick={onCancel}>
          Close
        </button>
      </div>
    </form>
  );
}
