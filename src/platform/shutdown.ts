// What must happen when this instance stops (the host's appTerminate hook). The services register their tasks
// when they are built, so the entry can run them without loading the services (or anything) itself.
const tasks: Array<() => Promise<void>> = [];

export function onShutdown(task: () => Promise<void>): void {
  tasks.push(task);
}

/** Runs every registered task once; one that fails does not keep the others from running. */
export async function runShutdownTasks(): Promise<void> {
  await Promise.allSettled(tasks.splice(0).map((task) => task()));
}
