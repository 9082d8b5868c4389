// CPU accounting from /proc, to refuse benchmark runs during which other
// processes (not this process tree: node, the server, Chromium) used the CPU,
// and the CPU's description for the benchmark's report.
import { readFileSync, readdirSync } from "node:fs";
import { availableParallelism } from "node:os";

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux/x86_64 and arm64

function busyTicks() {
  const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  return user + nice + system + irq + softirq + steal;
}

// utime + stime + cutime + cstime of every process descending from `root` pid.
function treeTicks(root) {
  const stats = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
      // Fields after the command: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
      stats.set(Number(name), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]) });
    } catch {
      // the process ended while we read
    }
  }
  const inTree = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = stats.get(p)?.ppid ?? 0, hops++) if (p === root) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, s] of stats) if (inTree(pid)) ticks += s.ticks;
  return ticks;
}

export function cpuSnapshot() {
  return { at: performance.now(), busy: busyTicks(), ours: treeTicks(process.pid) };
}

// Average number of cores other processes kept busy between two snapshots.
// Our processes that exited in between are missed by `ours`, so the figure
// errs towards "busy" (the safe side for refusing a run).
export function otherCores(a, b) {
  const seconds = (b.at - a.at) / 1000;
  const other = Math.max(0, b.busy - a.busy - (b.ours - a.ours));
  return { cores: other / TICKS_PER_SECOND / seconds, of: availableParallelism() };
}

// The CPU the run measured, for the report: absolute speeds depend on it
// (a shared machine's virtual cores may land on different hardware from one
// day to the next), e.g.
// "AMD EPYC (family 25 model 1), 2 cores; avx2 fma; no avx512f avx512_vnni avx_vnni".
export function cpuDescription() {
  let info = "";
  try {
    info = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return `unknown CPU, ${availableParallelism()} cores`;
  }
  const field = (name) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1]?.trim();
  const flags = new Set((field("flags") ?? "").split(/\s+/));
  const wanted = ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni"];
  const has = wanted.filter((f) => flags.has(f));
  const lacks = wanted.filter((f) => !flags.has(f));
  const parts = [
    `${field("model name") ?? "unknown CPU"} (family ${field("cpu family") ?? "?"} model ${field("model") ?? "?"}), ${availableParallelism()} cores`,
    has.join(" "),
    lacks.length ? `no ${lacks.join(" ")}` : "",
  ];
  return parts.filter(Boolean).join("; ");
}
