import { useAppStore } from "../../store/index.ts";

/** `Run`: a new container of the shown image, with a terminal attached (docker run -it). */
export function RunButton() {
  const image = useAppStore((s) => s.explorer.image);
  const run = useAppStore((s) => s.runImage);
  return (
    <button
      type="button"
      className="button-primary"
      disabled={!image}
      title="docker run -it: a new container of this image with a shell"
      onClick={() => void run()}
    >
      Run
    </button>
  );
}
