/**
 * An emulator started by the sandbox, the soak or the end-to-end tests stops by itself when the process that started
 * it is gone. Those start it in a process group of its own (so stopping it stops its children), which also means a
 * starter killed with SIGKILL, or one that dies before it stops its children, cannot reach it: without this watch the
 * emulator would keep its port and its state file open until someone found it. The starter names itself in
 * `EMULATOR_OWNER_PID`; run by hand, without it, the emulator runs until stopped.
 */
const CHECK_EVERY_MS = 2000;

export function stopWhenOwnerExits(stop: () => Promise<unknown>, owner = process.env.EMULATOR_OWNER_PID): void {
  const pid = Number(owner);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch (error) {
      // EPERM: the pid is alive, owned by someone else (reused); only ESRCH means the owner is gone.
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") return;
      clearInterval(timer);
      console.error(`the process that started this emulator (${pid}) has exited: stopping`);
      void stop().finally(() => process.exit(0));
    }
  }, CHECK_EVERY_MS);
  timer.unref();
}
