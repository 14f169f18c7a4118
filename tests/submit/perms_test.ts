/**
 * Who may touch the spool (issue 11, items 13, 14, 17, 18): symlinks planted in the spool
 * are never followed; a spool directory of another user or writable by others is
 * refused in one line; files are 0600 and directories 0700 whatever the umask; `--user X`
 * gets its default spool before root is dropped (or one line saying to pass --spool);
 * an unreadable segment or an unwritable directory is one clear line, never an
 * "internal error", and the rest keeps working. Permission cases run as `nobody`.
 */
import assert from "node:assert/strict";
import { MAIN, PCAPS, run, runNetmon, skipUnless } from "../helpers/run.ts";
import { FakeServer } from "./fake_server.ts";
import { asUserSkip, chown, DENO_DIR, NOBODY, runNetmonAs } from "./as_user.ts";

const skipRoot = skipUnless({ root: true });
const DTP = `${PCAPS}DTP.pcap`;

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "netmon-perm-" });
  await Deno.chmod(dir, 0o755);
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const mode = (p: string) => (Deno.lstatSync(p).mode! & 0o777).toString(8).padStart(4, "0");

/** The one-line error at the end of stderr. */
const lastLine = (s: string) => s.trimEnd().split("\n").at(-1) ?? "";

/** A spool with `n` segments of DTP records (each run of capture -r makes one). */
async function spoolWith(dir: string, n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) {
    const r = await runNetmon(["capture", "-r", DTP, "--no-flows", "--spool", dir]);
    assert.equal(r.code, 0, r.stderr);
  }
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("seg-")).sort();
}

function lines(path: string): number {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "").length;
}

// ---- item 13 ------------------------------------------------------------------------

Deno.test({
  name: "a dead-letter.jsonl symlink planted in the spool is refused, never followed",
  ignore: skipRoot !== null,
  fn: async () => {
    const srv = new FakeServer(() => Response.json({ error: "bad" }, { status: 400 }));
    try {
      await withTmp(async (tmp) => {
        const spool = `${tmp}/spool`;
        await Deno.mkdir(spool, { mode: 0o700 });
        const target = `${tmp}/crontab`;
        await Deno.writeTextFile(target, "original\n");
        await Deno.symlink(target, `${spool}/dead-letter.jsonl`);
        const r = await runNetmon([
          "capture",
          "-r",
          DTP,
          "--no-flows",
          "--server",
          srv.url,
          "--spool",
          spool,
        ]);
        assert.equal(
          await Deno.readTextFile(target),
          "original\n",
          "root wrote through the symlink",
        );
        assert.match(r.stderr, /dead-letter\.jsonl: a symbolic link \(refused\)/);
        assert.equal(r.code, 1, "records were lost: the run says so");
        assert.doesNotMatch(r.stderr, /internal error/);
      });
    } finally {
      await srv.close();
    }
  },
});

Deno.test({
  name: "a spool directory writable by others, or of another user, is refused in one line",
  ignore: skipRoot !== null,
  fn: async () => {
    await withTmp(async (tmp) => {
      const open = `${tmp}/open`;
      await Deno.mkdir(open);
      await Deno.chmod(open, 0o777);
      const a = await runNetmon(["capture", "-r", DTP, "--spool", open]);
      assert.equal(a.code, 1, a.stderr);
      assert.match(
        lastLine(a.stderr),
        /^netmon: spool directory .*open is writable by its group \(mode 0777\): refused \(chmod 700 /,
      );
      assert.equal([...Deno.readDirSync(open)].length, 0, "nothing written there");
      const theirs = `${tmp}/theirs`;
      await Deno.mkdir(theirs, { mode: 0o700 });
      await chown(theirs, NOBODY);
      const b = await runNetmon(["capture", "-r", DTP, "--spool", theirs]);
      assert.equal(b.code, 1, b.stderr);
      assert.match(
        lastLine(b.stderr),
        /^netmon: spool directory .*theirs belongs to nobody \(uid 65534\), not to root \(uid 0\)/,
      );
      assert.equal([...Deno.readDirSync(theirs)].length, 0);
    });
  },
});

// ---- item 14 ------------------------------------------------------------------------

Deno.test("spool directories are 0700 and files 0600 even with umask 000", async () => {
  const srv = new FakeServer((
    n,
  ) => (n === 1 ? Response.json({ error: "bad" }, { status: 400 }) : null));
  try {
    await withTmp(async (tmp) => {
      const state = `${tmp}/state`;
      const sh = (args: string[]) =>
        run(
          ["sh", "-c", 'umask 000; exec "$@"', "sh", Deno.execPath(), "run", "-A", MAIN, ...args],
          {
            env: { XDG_STATE_HOME: state },
          },
        );
      // Spool only (segments), then a server refusing the first batch (dead letter).
      const a = await sh(["capture", "-r", DTP, "--no-flows", "--spool", `${state}/netmon/spool`]);
      assert.equal(a.code, 0, a.stderr);
      const b = await sh([
        "capture",
        "-r",
        DTP,
        "--no-flows",
        "--server",
        srv.url,
        "--batch-records",
        "5",
      ]);
      assert.equal(b.code, 0, b.stderr);
      const spool = `${state}/netmon/spool`;
      assert.equal(mode(`${state}/netmon`), "0700");
      assert.equal(mode(spool), "0700");
      const files = [...Deno.readDirSync(spool)].map((e) => e.name);
      assert.ok(files.includes("dead-letter.jsonl"), files.join(" "));
      for (const f of files) assert.equal(mode(`${spool}/${f}`), "0600", f);
    });
  } finally {
    await srv.close();
  }
});

// ---- item 17 ------------------------------------------------------------------------

Deno.test({
  name:
    "--user nobody --server URL: the default spool is made for nobody (0700) before root is dropped",
  ignore: skipUnless({ root: true, tools: ["env"] }) !== null,
  fn: async () => {
    const srv = new FakeServer();
    try {
      await withTmp(async (home) => {
        const args = [
          "capture",
          "-i",
          "lo",
          "--user",
          "nobody",
          "--server",
          srv.url,
          "--duration",
          "1",
        ];
        const r = await run([
          "env",
          "-u",
          "XDG_STATE_HOME",
          `HOME=${home}`,
          `DENO_DIR=${DENO_DIR}`,
          Deno.execPath(),
          "run",
          "-A",
          MAIN,
          ...args,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const spool = `${home}/.local/state/netmon/spool`;
        const st = Deno.statSync(spool);
        assert.equal(st.uid, NOBODY.uid);
        assert.equal(mode(spool), "0700");
        assert.doesNotMatch(r.stderr, /internal error|Permission denied/);
        // Under a home nobody cannot enter: one line saying to pass --spool.
        const closed = `${home}/closed`;
        await Deno.mkdir(closed, { mode: 0o700 });
        const c = await run([
          "env",
          "-u",
          "XDG_STATE_HOME",
          `HOME=${closed}`,
          `DENO_DIR=${DENO_DIR}`,
          Deno.execPath(),
          "run",
          "-A",
          MAIN,
          ...args,
        ]);
        assert.equal(c.code, 2, c.stderr);
        assert.equal(c.stderr.trim().split("\n").length, 1, c.stderr);
        assert.match(
          c.stderr,
          /--user nobody cannot reach the spool directory .*closed.*: pass --spool DIR/,
        );
      });
    } finally {
      await srv.close();
    }
  },
});

// ---- item 18 ------------------------------------------------------------------------

Deno.test({
  name:
    "an unreadable segment (chmod 000, as nobody): status, drain and capture say so in one line and go on",
  ignore: asUserSkip !== null,
  fn: async () => {
    const srv = new FakeServer();
    try {
      await withTmp(async (tmp) => {
        const spool = `${tmp}/spool`;
        await Deno.mkdir(spool, { mode: 0o700 });
        const segs = await spoolWith(spool, 3);
        assert.equal(segs.length, 3);
        const per = lines(`${spool}/${segs[0]}`);
        await chown(spool, NOBODY);
        await Deno.chmod(`${spool}/${segs[1]}`, 0o000);
        // status: counts what it can read, one line for the other.
        const s = await runNetmonAs(NOBODY, ["spool", "status", "--spool", spool]);
        assert.equal(s.code, 0, s.stderr);
        assert.match(s.stdout, new RegExp(`${2 * per} records waiting in 2 segments`));
        const bad = s.stdout.split("\n").filter((l) => l.includes(segs[1]));
        assert.equal(bad.length, 1, s.stdout);
        assert.match(bad[0], /cannot be read \(permission denied\)/);
        // drain: delivers the two others, exits 1 naming the unreadable one.
        const d = await runNetmonAs(NOBODY, [
          "spool",
          "drain",
          "--server",
          srv.url,
          "--spool",
          spool,
        ]);
        assert.equal(d.code, 1, d.stderr);
        assert.doesNotMatch(d.stderr, /internal error/);
        assert.match(
          lastLine(d.stderr),
          new RegExp(`${segs[1]}: permission denied.*make them readable by nobody`),
        );
        assert.equal(srv.stored.length, 2 * per);
        // capture --server: starts, ships, says so once, exits 0; the segment stays in place.
        const c = await runNetmonAs(NOBODY, [
          "capture",
          "-r",
          DTP,
          "--no-flows",
          "--server",
          srv.url,
          "--spool",
          spool,
        ]);
        assert.equal(c.code, 0, c.stderr);
        assert.doesNotMatch(c.stderr, /internal error/);
        assert.equal(
          c.stderr.split("\n").filter((l) => l.includes(`cannot read ${segs[1]}`)).length,
          1,
          c.stderr,
        );
        assert.equal(srv.stored.length, 3 * per);
        assert.ok(Deno.statSync(`${spool}/${segs[1]}`).isFile);
      });
    } finally {
      await srv.close();
    }
  },
});

Deno.test({
  name: "an unwritable spool directory (as nobody): one line naming the fix",
  ignore: asUserSkip !== null,
  fn: async () => {
    await withTmp(async (tmp) => {
      const spool = `${tmp}/spool`;
      await Deno.mkdir(spool, { mode: 0o700 });
      await chown(spool, NOBODY);
      await Deno.chmod(spool, 0o500);
      const r = await runNetmonAs(NOBODY, ["capture", "-r", DTP, "--no-flows", "--spool", spool]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(
        r.stderr,
        /^netmon: spool directory .* is not writable by nobody \(uid 65534\): make it writable \(chown nobody .*; chmod 700 .*\) or pass --spool DIR/,
      );
    });
  },
});
