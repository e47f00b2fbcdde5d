/** What the document LayerLab grew from teaches, one lesson per point. */
export const LESSONS = [
  {
    id: "layers",
    title: "An image is a stack of layers",
    body: "Each filesystem-changing instruction (RUN, COPY, ADD) adds one read-only layer; the others only change the config.",
  },
  {
    id: "container-layer",
    title: "The container layer is the only writable one",
    body: "Edit a file: it is copied up into the container layer. Delete one: a whiteout hides it. The layers below never change.",
  },
  {
    id: "sharing",
    title: "Images share layers, stored once",
    body: "Two images built on the same base keep one copy of the base layers: the library shows the bytes saved.",
  },
  {
    id: "transfers",
    title: "Only missing layers move",
    body: "Change one instruction and only the layers from it up are new: a push or pull transfers just those.",
  },
  {
    id: "cache",
    title: "The build cache reuses unchanged steps",
    body: "A step is reused while its parent and its inputs are unchanged; the first changed step and all after it rebuild.",
  },
  {
    id: "waste",
    title: "Deleting in a later layer does not shrink the image",
    body: "Files removed by a later RUN still sit in the layer that added them: clean up in the same RUN.",
  },
] as const;

export function Lessons() {
  return (
    <section className="lessons" aria-label="Lessons">
      <ol>
        {LESSONS.map((l) => (
          <li key={l.id}>
            <strong>{l.title}</strong>
            <p>{l.body}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}
