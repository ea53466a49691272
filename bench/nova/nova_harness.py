#!/usr/bin/python3
"""Drive Nova's own LibvirtQuobyteVolumeDriver in-process, for benchmarks.

Run it with Debian's interpreter (the one that has python3-nova):

    /usr/bin/python3 bench/nova/nova_harness.py <scenario> --mount-base DIR
        [--iterations N] [--exports K] [--export EXPORT] [--child-count]
        [--no-eventlet] [--systemd auto|true|false] [--trace] [--debug]
        [--log-file FILE] [--deadline-s S]

Scenarios: warm-connect, cold-cycle, parallel, import, child-count.

Exactly one JSON object is written to stdout; everything else (Nova's logs,
Python warnings) goes to stderr. Times are raw per-call samples in
milliseconds, so the caller computes medians and percentiles itself.

How privsep is handled (see README.md): Nova's privileged functions are left
untouched; the oslo.privsep context they are bound to is switched to
"client mode off" (``sys_admin_pctxt.set_client_mode(False)``), which is the
switch oslo.privsep itself provides for running an entrypoint's body directly
in the calling process instead of sending it to a privsep daemon. The argv,
``processutils.execute`` and all of Nova's validation code are Nova's own.
On a host that Nova does not consider systemd, Nova does not use privsep for
Quobyte at all (``unprivileged_qb_mount`` / ``unprivileged_umount``).

mount.quobyte is looked up on PATH, exactly as Nova does; the caller sets PATH.
"""

import argparse
import json
import os
import signal
import sys
import time

SCENARIOS = ('warm-connect', 'cold-cycle', 'parallel', 'import', 'child-count')


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='nova_harness.py',
        description="Benchmark Nova's LibvirtQuobyteVolumeDriver in-process.")
    p.add_argument('scenario', choices=SCENARIOS)
    p.add_argument('--mount-base',
                   help='CONF.libvirt.quobyte_mount_point_base '
                        '(required except for "import")')
    p.add_argument('--iterations', '-n', type=int, default=None,
                   help='warm-connect/child-count: timed connects (1000); '
                        'cold-cycle: cycles (50)')
    p.add_argument('--exports', '-k', type=int, default=8,
                   help='parallel: number of exports/threads (8)')
    p.add_argument('--export', default='quobyte://bench.example.org/bench-vol',
                   help='export (prefix for parallel, which appends -<i>)')
    p.add_argument('--child-count', action='store_true',
                   help='also count child processes spawned per call')
    p.add_argument('--no-eventlet', action='store_true',
                   help='do not eventlet-monkey-patch (nova-compute does); '
                        'parallel then uses OS threads')
    p.add_argument('--systemd', choices=('auto', 'true', 'false'),
                   default='auto',
                   help="auto: Nova's own is_systemd() decides (default)")
    p.add_argument('--trace', action='store_true',
                   help='also record validate_volume / disk_partitions / '
                        'command timings as a "trace" event list')
    p.add_argument('--debug', action='store_true',
                   help='CONF.debug=True (Nova DEBUG logs to stderr)')
    p.add_argument('--log-file', help='oslo.log log_file (default: stderr)')
    p.add_argument('--deadline-s', type=float, default=300.0,
                   help='abort (and clean up) after this many seconds (300)')
    a = p.parse_args(argv)
    if a.scenario != 'import' and not a.mount_base:
        p.error('--mount-base is required for %s' % a.scenario)
    if a.iterations is None:
        a.iterations = 50 if a.scenario == 'cold-cycle' else 1000
    if a.iterations < 1 or a.exports < 1:
        p.error('--iterations and --exports must be >= 1')
    return a


ARGS = parse_args(sys.argv[1:])

# Keep stdout for the single JSON result: anything printed by libraries
# goes to stderr instead.
_JSON_FD = os.dup(1)
os.dup2(2, 1)
sys.stdout = sys.stderr

# ---------------------------------------------------------------------------
# Imports, timed. nova-compute (nova/cmd/__init__.py) imports
# nova.monkey_patch before anything else, which calls eventlet.monkey_patch()
# unless OS_NOVA_DISABLE_EVENTLET_PATCHING is set. Do the same.
# ---------------------------------------------------------------------------
if ARGS.no_eventlet:
    os.environ['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = '1'

_t = time.perf_counter_ns()
import nova.monkey_patch  # noqa: E402,F401  (patches unless disabled)
MONKEY_PATCH_NS = time.perf_counter_ns() - _t

_t = time.perf_counter_ns()
import nova.virt.libvirt.volume.quobyte as quobyte  # noqa: E402
IMPORT_NS = time.perf_counter_ns() - _t

import threading  # noqa: E402  (green after monkey patching)

import _posixsubprocess  # noqa: E402
from oslo_concurrency import processutils  # noqa: E402
from oslo_log import log as logging  # noqa: E402

import nova.conf  # noqa: E402
import nova.privsep  # noqa: E402
import nova.privsep.libvirt  # noqa: E402

CONF = nova.conf.CONF
LOG = logging.getLogger('nova_harness')


def eventlet_patched():
    try:
        import eventlet.patcher
        return bool(eventlet.patcher.is_monkey_patched('thread'))
    except ImportError:
        return False


def rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return None


def ms(ns):
    return ns / 1e6


# ---------------------------------------------------------------------------
# Instrumentation: time every processutils.execute call (all of Nova's
# commands go through it) and count every child process (fork_exec is what
# subprocess.Popen uses, green or not; fork/posix_spawn for completeness).
# ---------------------------------------------------------------------------
class Recorder(object):
    def __init__(self):
        self.commands = []      # (argv tuple, duration ns, ok)
        self.children = 0
        self.first_argv = {}    # argv[0] -> first full argv seen

    def reset(self):
        self.commands = []
        self.children = 0

    def cmd_ns(self, prog):
        return sum(d for argv, d, _ in self.commands if prog in argv[:2])


REC = Recorder()
_real_execute = processutils.execute


def _timed_execute(*cmd, **kwargs):
    t0 = time.perf_counter_ns()
    ok = False
    try:
        r = _real_execute(*cmd, **kwargs)
        ok = True
        return r
    finally:
        argv = tuple(str(c) for c in cmd)
        REC.commands.append((argv, time.perf_counter_ns() - t0, ok))
        if argv:
            REC.first_argv.setdefault(os.path.basename(argv[0]), list(argv))


processutils.execute = _timed_execute

TRACE = []          # [name, start ms since run start, duration ms]
_T0_NS = time.perf_counter_ns()


def _traced(name, fn):
    def wrapper(*a, **kw):
        t0 = time.perf_counter_ns()
        try:
            return fn(*a, **kw)
        finally:
            t1 = time.perf_counter_ns()
            TRACE.append([name, ms(t0 - _T0_NS), ms(t1 - t0)])
    wrapper.__wrapped__ = fn
    return wrapper


if ARGS.trace:
    # Nova looks these up as module attributes at call time.
    quobyte.validate_volume = _traced('validate_volume',
                                      quobyte.validate_volume)
    quobyte.psutil.disk_partitions = _traced('disk_partitions',
                                             quobyte.psutil.disk_partitions)
    processutils.execute = _traced('execute', _timed_execute)


def _count(fn):
    def wrapper(*a, **kw):
        REC.children += 1
        return fn(*a, **kw)
    wrapper.__wrapped__ = fn
    return wrapper


def _install_child_counters():
    """Wrap fork_exec/fork/posix_spawn wherever a module holds a reference.

    subprocess binds ``_fork_exec`` at import time, and under eventlet
    processutils uses eventlet.green.subprocess (built on a separate copy of
    the stdlib module), so patch every loaded module that refers to the real
    functions.
    """
    import posix
    real = {id(_posixsubprocess.fork_exec): _posixsubprocess.fork_exec}
    for name in ('fork', 'forkpty', 'posix_spawn', 'posix_spawnp', 'system'):
        if hasattr(posix, name):
            real[id(getattr(posix, name))] = getattr(posix, name)
    wrappers = {}
    patched = 0
    for mod in list(sys.modules.values()):
        for attr in ('_fork_exec', 'fork_exec', 'fork', 'forkpty',
                     'posix_spawn', 'posix_spawnp', 'system'):
            fn = getattr(mod, attr, None) if mod is not None else None
            if fn is not None and id(fn) in real and fn is real[id(fn)]:
                w = wrappers.setdefault(id(fn), _count(fn))
                try:
                    setattr(mod, attr, w)
                    patched += 1
                except (AttributeError, TypeError):
                    pass
    return patched


CHILD_COUNTER_SITES = _install_child_counters()


# ---------------------------------------------------------------------------
# Nova configuration and the driver
# ---------------------------------------------------------------------------
class FakeHost(object):
    """The driver only stores the host (LibvirtBaseVolumeDriver.__init__)."""


class FakeInstance(object):
    """What oslo.log needs from an instance= argument (uuid, name)."""

    def __init__(self, uuid):
        self.uuid = uuid
        self.name = 'instance-' + uuid[:8]

    def get(self, key, default=None):
        return getattr(self, key, default)


def configure(mount_base):
    # As nova.config.parse_args + nova.cmd.compute.main, minus RPC and DB.
    logging.register_options(CONF)
    CONF([], project='nova', default_config_files=[])
    if mount_base:
        CONF.set_override('quobyte_mount_point_base', mount_base,
                          group='libvirt')
    # quobyte_client_cfg stays unset (default None): no "-c <cfg>".
    CONF.set_override('debug', ARGS.debug)
    if ARGS.log_file:
        CONF.set_override('log_file', ARGS.log_file)
    else:
        CONF.set_override('use_stderr', True)
    logging.setup(CONF, 'nova')
    # Run privsep entrypoints in this process (see module docstring).
    nova.privsep.sys_admin_pctxt.set_client_mode(False)
    if ARGS.systemd != 'auto':
        quobyte._is_systemd = (ARGS.systemd == 'true')


def connection_info(export, i=0):
    return {
        'driver_volume_type': 'quobyte',
        'serial': 'vol-%04d' % i,
        'data': {'export': export, 'name': 'volume-%04d' % i,
                 'format': 'raw'},
    }


# ---------------------------------------------------------------------------
# Mount-table helpers (outside timed regions only)
# ---------------------------------------------------------------------------
def _unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == '\\' and i + 3 < len(s) and s[i + 1:i + 4].isdigit():
            out.append(chr(int(s[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


def mounted_at(path):
    with open('/proc/self/mountinfo') as f:
        for line in f:
            if _unescape(line.split(' ')[4]) == path:
                return True
    return False


def mount_count():
    with open('/proc/self/mountinfo') as f:
        return sum(1 for _ in f)


TOUCHED = set()   # mount paths this run may have mounted


def _mounts_under(base):
    base = base.rstrip('/') + '/'
    found = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            path = _unescape(line.split(' ')[4])
            if path.startswith(base):
                found.append(path)
    return found


def cleanup(failed):
    """Unmount whatever this run left mounted (lazily), remove its dirs.

    After a failure (deadline, exception) a mount command may still be
    finishing, so wait a moment and sweep everything under the mount base.
    """
    if failed:
        time.sleep(1.0)
    paths = set(TOUCHED)
    if failed and ARGS.mount_base:
        paths.update(_mounts_under(os.path.abspath(ARGS.mount_base)))
    left = []
    for path in sorted(paths, reverse=True):
        while mounted_at(path):
            left.append(path)
            _, err = _real_execute('umount', '-l', path,
                                   check_exit_code=False)
            if mounted_at(path):
                break
        try:
            os.rmdir(path)
        except OSError:
            pass
    return left


class Deadline(Exception):
    pass


HARD_GRACE_S = 15.0
_T_START = time.monotonic()


def check_deadline():
    """Soft deadline, checked between calls (never inside a timed region)."""
    if time.monotonic() - _T_START > ARGS.deadline_s:
        raise Deadline('deadline of %g s exceeded' % ARGS.deadline_s)


# The hard deadline lives in a separate, tiny process: a hung FUSE mount can
# freeze this whole process (os.pathconf, which psutil.disk_partitions calls
# on every mount point, keeps the GIL while the kernel waits for the FUSE
# daemon), so no thread of ours could act.
_WATCHDOG_CODE = r"""
import ctypes, json, os, select, signal, sys, time
ppid, limit, base, fd, scenario = (int(sys.argv[1]), float(sys.argv[2]),
                                   sys.argv[3], int(sys.argv[4]), sys.argv[5])
end = time.monotonic() + limit
emitted = False
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    r, _, _ = select.select([0], [], [], left)
    if r:
        data = os.read(0, 64)
        if not data:
            sys.exit(0)             # the harness has exited: nothing to do
        emitted = emitted or b'E' in data
def kids_of(pid):
    out = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d) as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out
def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return str(e)
stack = read('/proc/%d/stack' % ppid).split()
stack = [w for w in stack if '+0x' in w][:12]
wchan = read('/proc/%d/wchan' % ppid)
kids = kids_of(ppid)
if not emitted:
    msg = {'scenario': scenario,
           'error': 'hard deadline: harness killed after %g s without '
                    'finishing (main thread in kernel at %s: %s)'
                    % (limit, wchan, ' < '.join(stack))}
    os.write(fd, (json.dumps(msg) + '\n').encode())
for pid in [ppid] + kids:
    try:
        os.kill(pid, signal.SIGKILL if pid == ppid else signal.SIGTERM)
    except OSError:
        pass
time.sleep(2.0)
for pid in kids:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
if base:
    libc = ctypes.CDLL(None, use_errno=True)
    prefix = base.rstrip('/') + '/'
    def esc(f):
        return f.replace('\\040', ' ').replace('\\011', '\t') \
                .replace('\\012', '\n').replace('\\134', '\\')
    with open('/proc/self/mountinfo') as f:
        paths = [esc(l.split(' ')[4]) for l in f]
    for path in sorted(set(p for p in paths if p.startswith(prefix)),
                       reverse=True):
        for _ in range(4):
            if libc.umount2(path.encode(), 2) != 0:     # MNT_DETACH
                break
sys.exit(0)
"""

_WATCHDOG = []


def _start_watchdog():
    """Start the hard-deadline process (HARD_GRACE_S after the soft one)."""
    import subprocess as _sp
    base = os.path.abspath(ARGS.mount_base) if ARGS.mount_base else ''
    proc = _sp.Popen(
        [sys.executable, '-I', '-S', '-c', _WATCHDOG_CODE, str(os.getpid()),
         str(ARGS.deadline_s + HARD_GRACE_S), base, str(_JSON_FD),
         ARGS.scenario],
        stdin=_sp.PIPE, stdout=_sp.DEVNULL, pass_fds=(_JSON_FD,),
        close_fds=True)
    _WATCHDOG.append(proc)


def _watchdog_emitting():
    for proc in _WATCHDOG:
        try:
            proc.stdin.write(b'E')
            proc.stdin.flush()
        except (OSError, ValueError):
            pass


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------
def precheck(driver, ci):
    path = driver._get_mount_path(ci)
    if mounted_at(path):
        raise SystemExit('refusing to run: %s is already mounted (left over '
                         'from an earlier run?)' % path)
    TOUCHED.add(path)
    return path


def scenario_warm(driver, instance, result, count_children):
    ci = connection_info(ARGS.export)
    path = precheck(driver, ci)
    REC.reset()
    driver.connect_volume(ci, instance)
    if not mounted_at(path):
        raise RuntimeError('first connect did not mount %s' % path)
    result['first_connect_children'] = REC.children
    result['first_connect_commands'] = [list(c[0]) for c in REC.commands]
    samples = result['samples_ms'] = []     # partial results survive errors
    children = []
    pc = time.perf_counter_ns
    for _ in range(ARGS.iterations):
        check_deadline()
        c0 = REC.children
        t0 = pc()
        driver.connect_volume(ci, instance)
        samples.append(ms(pc() - t0))
        children.append(REC.children - c0)
    if count_children:
        result['children_total'] = sum(children)
        result['children_per_call'] = sum(children) / len(children)
        result['children_max_per_call'] = max(children)
    REC.reset()
    t0 = pc()
    driver.disconnect_volume(ci, instance)
    result['disconnect_ms'] = ms(pc() - t0)
    result['disconnect_commands'] = [list(c[0]) for c in REC.commands]
    if mounted_at(path):
        raise RuntimeError('disconnect did not unmount %s' % path)


def scenario_cold(driver, instance, result):
    ci = connection_info(ARGS.export)
    path = precheck(driver, ci)
    pc = time.perf_counter_ns
    keys = ('samples_ms', 'connect_ms', 'disconnect_ms', 'mount_cmd_ms',
            'umount_cmd_ms', 'overhead_ms', 'children_per_cycle')
    for key in keys:                        # partial results survive errors
        result[key] = []
    cycle, conn, disc, mount_cmd, umount_cmd, overhead, children = \
        [result[key] for key in keys]
    errors = result['errors'] = 0
    for _ in range(ARGS.iterations):
        check_deadline()
        REC.reset()
        t0 = pc()
        driver.connect_volume(ci, instance)
        t1 = pc()
        ok_mounted = mounted_at(path)          # untimed check
        t2 = pc()
        driver.disconnect_volume(ci, instance)
        t3 = pc()
        if not ok_mounted or mounted_at(path):
            errors += 1
        total = (t1 - t0) + (t3 - t2)
        m = REC.cmd_ns('mount.quobyte')
        u = REC.cmd_ns('umount')
        cycle.append(ms(total))
        conn.append(ms(t1 - t0))
        disc.append(ms(t3 - t2))
        mount_cmd.append(ms(m))
        umount_cmd.append(ms(u))
        overhead.append(ms(total - m - u))
        children.append(REC.children)
        result['errors'] = errors


def scenario_parallel(driver, result):
    k = ARGS.exports
    cis = [connection_info('%s-%d' % (ARGS.export, i), i) for i in range(k)]
    paths = [precheck(driver, ci) for ci in cis]
    instances = [FakeInstance('00000000-0000-4000-8000-%012d' % i)
                 for i in range(k)]
    go = threading.Event()
    start_ns = [0] * k
    end_ns = [0] * k
    errs = [None] * k
    pc = time.perf_counter_ns

    def worker(i):
        go.wait()
        start_ns[i] = pc()
        try:
            driver.connect_volume(cis[i], instances[i])
        except Exception as e:  # reported, not fatal
            errs[i] = '%s: %s' % (type(e).__name__, e)
        end_ns[i] = pc()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(k)]
    for t in threads:
        t.start()
    time.sleep(0.05)       # let every thread reach go.wait()
    REC.reset()
    t0 = pc()
    go.set()
    for t in threads:
        t.join()
    wall = pc() - t0
    mounted = [mounted_at(p) for p in paths]
    result.update({
        'wall_ms': ms(wall),
        'samples_ms': [ms(e - s) for s, e in zip(start_ns, end_ns)],
        'finish_offsets_ms': sorted(ms(e - t0) for e in end_ns),
        'mount_cmd_ms': [ms(d) for argv, d, _ in REC.commands
                         if 'mount.quobyte' in argv[:2]],
        'mounted': sum(mounted),
        'errors': [e for e in errs if e],
        'mount_delay_env_ms': os.environ.get('QUOBYTE_STANDIN_DELAY_MS'),
    })
    t0 = pc()
    for ci, inst in zip(cis, instances):
        driver.disconnect_volume(ci, inst)
    result['disconnect_all_ms'] = ms(pc() - t0)
    still = [p for p in paths if mounted_at(p)]
    if still:
        result['errors'].append('still mounted after disconnect: %s' % still)


RESULT = {'scenario': ARGS.scenario}


def main():
    _start_watchdog()

    t = time.perf_counter_ns()
    configure(ARGS.mount_base)
    config_ns = time.perf_counter_ns() - t
    t = time.perf_counter_ns()
    driver = quobyte.LibvirtQuobyteVolumeDriver(FakeHost())
    construct_ns = time.perf_counter_ns() - t

    try:
        from importlib import metadata
        nova_version = metadata.version('nova')
    except Exception:
        nova_version = None

    result = RESULT
    result.update({
        'scenario': ARGS.scenario,
        'nova_version': nova_version,
        'python': sys.version.split()[0],
        'eventlet_monkey_patched': eventlet_patched(),
        'concurrency': ('eventlet-greenthreads' if eventlet_patched()
                        else 'os-threads'),
        'monkey_patch_ms': ms(MONKEY_PATCH_NS),
        'import_ms': ms(IMPORT_NS),
        'configure_ms': ms(config_ns),
        'construct_ms': ms(construct_ns),
        'import_total_ms': ms(MONKEY_PATCH_NS + IMPORT_NS + construct_ns),
        'rss_kib_after_import': rss_kib(),
        'iterations': ARGS.iterations,
        'mountinfo_lines': mount_count(),
        'child_counter_sites': CHILD_COUNTER_SITES,
    })
    if ARGS.scenario == 'import':
        result['rss_kib'] = result['rss_kib_after_import']
        return result

    # Nova's own decision (cached by Nova; None until first asked).
    REC.reset()
    t = time.perf_counter_ns()
    result['is_systemd'] = quobyte.is_systemd()
    result['is_systemd_ms'] = ms(time.perf_counter_ns() - t)
    result['is_systemd_commands'] = [list(c[0]) for c in REC.commands]
    result['systemd_mode'] = ARGS.systemd

    instance = FakeInstance('11111111-2222-4333-8444-555555555555')
    failed = True
    try:
        if ARGS.scenario == 'warm-connect':
            scenario_warm(driver, instance, result, ARGS.child_count)
        elif ARGS.scenario == 'child-count':
            scenario_warm(driver, instance, result, True)
        elif ARGS.scenario == 'cold-cycle':
            scenario_cold(driver, instance, result)
        elif ARGS.scenario == 'parallel':
            scenario_parallel(driver, result)
        failed = False
    finally:
        left = cleanup(failed)
        if left:
            result['cleanup_lazy_unmounted'] = left
        result['command_argv'] = dict(REC.first_argv)
        if ARGS.trace:
            result['trace'] = TRACE
        result['rss_kib'] = rss_kib()
    return result


_EMITTED = []


def _emit(result):
    """Write the one JSON object (first caller wins)."""
    _EMITTED.append(1)
    if len(_EMITTED) != 1:
        return
    _watchdog_emitting()
    try:
        data = json.dumps(result)
    except Exception as e:  # e.g. a list changed under the watchdog
        data = json.dumps({'scenario': ARGS.scenario,
                           'error': '%s (and result not serialisable: %s)'
                           % (result.get('error'), e)})
    os.write(_JSON_FD, (data + '\n').encode())


if __name__ == '__main__':
    try:
        _emit(main())
    except BaseException as e:  # one JSON object, with the error, always
        if isinstance(e, SystemExit) and not isinstance(e.code, str):
            raise
        if not isinstance(e, SystemExit):
            import traceback
            traceback.print_exc()
        RESULT['error'] = (e.code if isinstance(e, SystemExit)
                           else '%s: %s' % (type(e).__name__, e))
        _emit(RESULT)
        sys.exit(1)
