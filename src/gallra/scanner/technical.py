"""The technical part of the scanner's corpus: logs, configuration and code.

A hosting provider's files are mostly these. Each generator below writes lines in the shape
of one kind of log or file (OpenStack nova, Hadoop HDFS, Apache, Linux syslog and kernel,
macOS, Spark, ZooKeeper, HPC, Windows CBS, Android logcat, BGL and Thunderbird, OpenSSH,
Proxifier, HealthApp, nginx, the systemd journal, Postfix, configuration files, Python and
JavaScript, JSON and CSV), with what such files are full of: time stamps with milliseconds,
process and thread ids, ports, versions, durations, byte counts, block and request ids,
hashes and UUIDs. Nothing in it is personal data but the IP and e-mail addresses such a log
holds, and those are labelled: the scanner must find them and nothing else. The shapes are
written by hand, the values seeded; no fetched data.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from gallra.scanner import scan
from gallra.scanner.corpus import Document


class _Log:
    """Values of the kinds technical text is full of, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)  # noqa: S311 (test data, not secrets)
        self.at = datetime(2017, 5, 16, 0, 0, 3, tzinfo=UTC)

    def tick(self, most: float = 3.0) -> datetime:
        self.at += timedelta(seconds=self.r.random() * most)
        return self.at

    def ms(self) -> str:
        return f"{self.at.microsecond // 1000:03d}"

    def pid(self) -> int:
        return self.r.choice(
            [
                self.r.randrange(2, 1000),
                self.r.randrange(1000, 65536),
                self.r.randrange(100_000, 4_194_304),
            ]
        )

    def port(self) -> int:
        return self.r.choice(
            [22, 25, 80, 443, 2181, 3306, 5432, 8080, 50010, self.r.randrange(1024, 65536)]
        )

    def hex(self, n: int) -> str:
        return f"{self.r.getrandbits(4 * n):0{n}x}"

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def digit_uuid(self) -> str:
        """A UUID whose groups happen to be all digits (one in a few thousand are)."""
        h = "".join(str(self.r.randrange(10)) for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def version(self) -> str:
        r = self.r
        return r.choice(
            [
                f"{r.randrange(1, 20)}.{r.randrange(30)}.{r.randrange(200)}",
                f"{r.randrange(1, 6)}.{r.randrange(20)}.0-{r.randrange(10, 200)}-generic",
                f"{r.randrange(1, 4)}.{r.randrange(20)}.{r.randrange(20)}.{r.randrange(9)}",
                f"{r.randrange(2, 30)}.{r.randrange(12):02d}",
            ]
        )

    def ipv4(self) -> str:
        r = self.r
        first = r.choice([10, 81, 83, 85, 172, 192, 185, 193, 194, 203, 212, 213, 217])
        return f"{first}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def ipv6(self) -> str:
        return f"2001:db8:{self.hex(4).lstrip('0') or '0'}::{self.hex(3).lstrip('0') or '1'}"

    def ip(self) -> str:
        return self.ipv6() if self.r.random() < 0.2 else self.ipv4()

    def num(self, digits: int) -> str:
        """A number of exactly that many digits, often with a leading zero (zero-padded)."""
        return f"{self.r.randrange(10**digits):0{digits}d}"

    def size(self) -> int:
        return self.r.choice(
            [0, 91, 512, 4096, 25746, 65536, 1048576, 67108864, self.r.randrange(10**9)]
        )

    def duration(self) -> str:
        return f"{self.r.random() * self.r.choice([1, 10, 1000]):.{self.r.randrange(1, 7)}f}"

    def epoch(self) -> int:
        return int(self.at.timestamp())


def _openstack(g: _Log, d: Document) -> None:
    at = g.tick(0.5)
    head = f"{at:%Y-%m-%d %H:%M:%S}.{g.ms()} {g.pid()} INFO "
    log = g.r.choice(["nova-compute", "nova-api", "nova-scheduler"])
    d.add(f"{log}.log.1.{at:%Y-%m-%d_%H:%M:%S} " if g.r.random() < 0.5 else "")
    req = f"[req-{g.uuid()} {g.hex(32)} {g.hex(32)} - - -]"
    kind = g.r.randrange(6)
    if kind == 0:
        d.add(f"{head}nova.osapi_compute.wsgi.server {req} ")
        d.add(g.ipv4(), scan.IP)
        d.add(
            f' "GET /v2/{g.hex(32)}/servers/detail HTTP/1.1" status: 200 len: '
            f"{g.r.randrange(200, 2000)} time: {g.r.random():.7f}\n"
        )
    elif kind == 1:
        d.add(
            f"{head}nova.compute.manager {req} [instance: {g.uuid()}] VM Started (Lifecycle "
            f"Event)\n"
        )
    elif kind == 2:
        d.add(
            f"{head}nova.compute.resource_tracker {req} Final resource view: "
            f"name=cp-{g.r.randrange(1, 9)}.slowvm1.tcloud-pg0.utah.cloudlab.us "
            f"phys_ram={g.r.randrange(8000, 65000)}MB used_ram={g.r.randrange(512, 8000)}MB "
            f"phys_disk={g.r.randrange(10, 500)}GB used_disk={g.r.randrange(0, 100)}GB "
            f"total_vcpus=16 used_vcpus={g.r.randrange(17)} pci_stats=[]\n"
        )
    elif kind == 3:
        d.add(
            f"{head}nova.virt.libvirt.imagecache {req} image {g.uuid()} at "
            f"(/var/lib/nova/instances/_base/{g.hex(40)}): checking\n"
        )
    elif kind == 4:
        d.add(
            f"{head}nova.compute.manager {req} [instance: {g.digit_uuid()}] Took "
            f"{g.r.randrange(100)}.{g.num(2)} seconds to spawn the instance on the "
            f"hypervisor.\n"
        )
    else:
        d.add(f"{head}nova.metadata.wsgi.server [-] ")
        d.add(g.ipv4(), scan.IP)
        d.add(
            f',{g.ipv4()[:0]}"GET /openstack/2013-10-17/meta_data.json HTTP/1.1" status: 200 '
            f"len: {g.r.randrange(200, 2000)} time: 0.{g.num(7)}\n"
        )


def _hdfs(g: _Log, d: Document) -> None:
    at = g.tick(2)
    head = f"{at:%y%m%d %H%M%S} {g.r.randrange(1, 400)} INFO "
    block = f"blk_{g.r.randrange(-(2**63), 2**63)}"
    kind = g.r.randrange(5)
    if kind == 0:
        d.add(
            f"{head}dfs.DataNode$PacketResponder: PacketResponder {g.r.randrange(3)} for "
            f"block {block} terminating\n"
        )
    elif kind == 1:
        d.add(
            f"{head}dfs.DataNode$PacketResponder: Received block {block} of size {g.size()} from /"
        )
        d.add(g.ipv4(), scan.IP)
        d.add("\n")
    elif kind == 2:
        d.add(f"{head}dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: ")
        d.add(g.ipv4(), scan.IP)
        d.add(f":50010 is added to {block} size {g.size()}\n")
    elif kind == 3:
        d.add(f"{head}dfs.DataNode$DataXceiver: Receiving block {block} src: /")
        d.add(g.ipv4(), scan.IP)
        d.add(f":{g.port()} dest: /")
        d.add(g.ipv4(), scan.IP)
        d.add(":50010\n")
    else:
        job = f"{at:%Y%m%d%H%M}_{g.num(4)}"
        d.add(
            f"{head}dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /user/root/rand/"
            f"_temporary/_task_{job}_m_{g.num(6)}_0/part-{g.num(5)}. {block}\n"
        )


_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{a}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.{b} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{a}.0) Gecko/20100101 Firefox/{a}.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{a}.0.0.0 Safari/537.36 Edg/{a}.0.{c}.{b}",
    "curl/7.{b}.0",
    "python-requests/2.{b}.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "okhttp/4.9.{b}",
]
_PATHS = [
    "/",
    "/index.php?id={n}",
    "/static/img/logo@2x.png",
    "/static/css/app.{h}.css",
    "/wp-login.php",
    "/api/v1/orders/{n}",
    "/shop/cart?item={n}&qty=1",
    "/images/banner-0{n}.jpg",
    "/.env",
    "/favicon.ico",
]


def _agent(g: _Log) -> str:
    return g.r.choice(_AGENTS).format(
        a=g.r.randrange(90, 130), b=g.r.randrange(100), c=g.r.randrange(1000, 3000)
    )


def _path(g: _Log) -> str:
    return g.r.choice(_PATHS).format(n=g.r.randrange(10 ** g.r.randrange(1, 10)), h=g.hex(8))


def _apache_access(g: _Log, d: Document) -> None:
    at = g.tick()
    d.add(g.ip(), scan.IP)
    method = g.r.choice(["GET", "GET", "POST", "HEAD"])
    d.add(
        f' - - [{at:%d/%b/%Y:%H:%M:%S} +0200] "{method} {_path(g)} HTTP/1.1" '
        f"{g.r.choice([200, 200, 301, 304, 404, 500])} {g.size()} "
        f'"-" "{_agent(g)}" {g.r.randrange(100, 999999)}\n'
    )


def _apache_error(g: _Log, d: Document) -> None:
    at = g.tick(20)
    kind = g.r.randrange(4)
    if kind == 0:
        d.add(
            f"[{at:%a %b %d %H:%M:%S %Y}] [notice] workerEnv.init() ok "
            f"/etc/httpd/conf/workers2.properties\n"
        )
    elif kind == 1:
        d.add(f"[{at:%a %b %d %H:%M:%S %Y}] [error] [client ")
        d.add(g.ipv4(), scan.IP)
        d.add("] Directory index forbidden by rule: /var/www/html/\n")
    elif kind == 2:
        d.add(
            f"[{at:%a %b %d %H:%M:%S}.{g.num(6)} {at:%Y}] [core:error] [pid {g.pid()}:tid "
            f"{g.r.randrange(10**14, 10**15)}] [client "
        )
        d.add(g.ipv4(), scan.IP)
        d.add(f":{g.port()}] AH00126: Invalid URI in request GET /..%2f..%2fetc/passwd HTTP/1.1\n")
    else:
        d.add(
            f"[{at:%a %b %d %H:%M:%S %Y}] [error] mod_jk child workerEnv in error state "
            f"{g.r.randrange(10)}\n"
        )


def _syslog(g: _Log, d: Document) -> None:
    at = g.tick(60)
    head = f"{at:%b %d %H:%M:%S} combo "
    kind = g.r.randrange(7)
    if kind == 0:
        d.add(
            f"{head}sshd(pam_unix)[{g.pid()}]: authentication failure; logname= uid=0 euid=0 "
            f"tty=NODEVssh ruser= rhost="
        )
        d.add(g.ipv4(), scan.IP)
        d.add("\n")
    elif kind == 1:
        d.add(f"{head}su(pam_unix)[{g.pid()}]: session opened for user cyrus by (uid=0)\n")
    elif kind == 2:
        d.add(
            f"{head}kernel: Memory: {g.r.randrange(10**5, 10**6)}k/{g.r.randrange(10**5, 10**6)}"
            f"k available ({g.r.randrange(9999)}k kernel code, {g.r.randrange(9999)}k reserved, "
            f"{g.r.randrange(999)}k data, 144k init, 0k highmem)\n"
        )
    elif kind == 3:
        d.add(
            f"{head}kernel: hda: {g.r.randrange(10**7, 10**9)} sectors ({g.r.randrange(99999)} "
            f"MB) w/2048KiB Cache, CHS=65535/16/63, UDMA(100)\n"
        )
    elif kind == 4:
        ip = g.ipv4()
        d.add(f"{head}ftpd[{g.pid()}]: connection from ")
        d.add(ip, scan.IP)
        d.add(
            f" (lns-vlq-45-tou-{ip.replace('.', '-')}.adsl.proxad.net) at "
            f"{at:%a %b %d %H:%M:%S %Y}\n"
        )
    elif kind == 5:
        d.add(f"{head}xinetd[{g.pid()}]: START: ftp pid={g.pid()} from=")
        d.add(g.ipv4(), scan.IP)
        d.add("\n")
    else:
        d.add(f"{head}kernel: Linux version 2.6.5-1.358 (")
        d.add("bhcompile@bugs.build.redhat.com", scan.EMAIL)
        d.add(
            ") (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Fri May 7 10:08:10 EDT "
            "2004\n"
        )


def _kernel(g: _Log, d: Document) -> None:
    up = f"[{g.r.random() * 10 ** g.r.randrange(1, 6):12.6f}]"
    kind = g.r.randrange(9)
    if kind == 0:
        d.add(
            f"{up} Linux version {g.r.randrange(4, 7)}.{g.r.randrange(20)}.0-"
            f"{g.r.randrange(10, 200)}-generic (buildd@lcy02-amd64-0{g.num(2)}) (gcc (Ubuntu "
            f"11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) "
            f"#{g.r.randrange(200)}-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023\n"
        )
    elif kind == 1:
        d.add(f"{up} BIOS-e820: [mem 0x{g.num(16)}-0x{g.hex(16)}] usable\n")
    elif kind == 2:
        d.add(
            f"{up} pci 0000:00:{g.hex(2)}.{g.r.randrange(8)}: [8086:{g.hex(4)}] type 00 class "
            f"0x0{g.num(5)}\n"
        )
    elif kind == 3:
        d.add(
            f"{up} Out of memory: Killed process {g.pid()} (java) total-vm:{g.num(8)}kB, "
            f"anon-rss:{g.num(7)}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:"
            f"{g.num(5)}kB oom_score_adj:0\n"
        )
    elif kind == 4:
        d.add(
            f'{up} audit: type=1400 audit({g.epoch()}.{g.ms()}:{g.pid()}): apparmor="DENIED" '
            f'operation="open" profile="/usr/sbin/cupsd" name="/etc/ssl/openssl.cnf" '
            f'pid={g.pid()} comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 '
            f"ouid=0\n"
        )
    elif kind == 5:
        d.add(
            f"{up} sd {g.r.randrange(4)}:0:0:0: [sdb] {g.num(9)} 512-byte logical blocks: "
            f"(500 GB/466 GiB)\n"
        )
    elif kind == 6:
        d.add(
            f"{up} [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:{g.hex(2)}:{g.hex(2)}:{g.hex(2)}:"
            f"52:54:00:65:43:21:08:00 SRC="
        )
        d.add(g.ipv4(), scan.IP)
        d.add(" DST=")
        d.add(g.ipv4(), scan.IP)
        d.add(
            f" LEN=40 TOS=0x00 PREC=0x00 TTL={g.r.randrange(30, 255)} ID={g.r.randrange(65536)}"
            f" PROTO=TCP SPT={g.port()} DPT={g.port()} WINDOW=1024 RES=0x00 SYN URGP=0\n"
        )
    elif kind == 7:
        d.add(
            f"{up} e1000e 0000:00:19.0 eth0: (PCI Express:2.5GT/s:Width x1) "
            f"{':'.join(g.hex(2) for _ in range(6))}\n"
        )
    else:
        d.add(
            f"{up} usb 1-1.{g.r.randrange(8)}: new high-speed USB device number "
            f"{g.r.randrange(128)} using ehci-pci\n"
        )


def _macos(g: _Log, d: Document) -> None:
    at = g.tick(30)
    head = f"{at:%b %e %H:%M:%S} calvisitor-10-105-160-95 "
    kind = g.r.randrange(7)
    if kind == 0:
        d.add(
            f"{head}kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback - Thunderbolt HPD "
            f"packet for route = 0x0 port = {g.r.randrange(20)} unplug = 0\n"
        )
    elif kind == 1:
        d.add(
            f"{head}kernel[0]: ARPT: {g.r.randrange(10**5, 10**6)}.{g.num(6)}: wl0: "
            f"wl_update_tcpkeep_seq: Original Seq: {g.r.randrange(2**32)}, Ack: "
            f"{g.r.randrange(2**32)}, Win size: 4096\n"
        )
    elif kind == 2:
        d.add(f"{head}QQ[{g.pid()}]: FA||Url||taskID[{g.r.randrange(10**9, 10**10)}] dealloc\n")
    elif kind == 3:
        d.add(
            f"{head}com.apple.cts[{g.pid()}]: com.apple.Safari.SafeBrowsing.Update: "
            f"scheduler_evaluate_activity told me to run this job; however, but the start time "
            f"isn't for {g.r.randrange(10**6)} seconds.  Ignoring.\n"
        )
    elif kind == 4:
        d.add(
            f"{head}WindowServer[{g.pid()}]: CGXDisplayDidWakeNotification "
            f"[{g.r.randrange(10**14, 10**15)}]: posting kCGSDisplayDidWake\n"
        )
    elif kind == 5:
        d.add(
            f"{head}mDNSResponder[{g.pid()}]: mDNS_DeregisterInterface: Frequent transitions "
            f"for interface en0 ("
        )
        d.add(g.ipv4(), scan.IP)
        d.add(")\n")
    else:
        d.add(
            f"{head}Safari[{g.pid()}]: tcp_connection_tls_session_error_callback_imp "
            f"{g.r.randrange(9999)} __tcp_connection_tls_session_callback_write_block_invoke."
            f"{g.r.randrange(999)} error 22\n"
        )


def _spark(g: _Log, d: Document) -> None:
    at = g.tick(1)
    head = f"{at:%y/%m/%d %H:%M:%S} INFO "
    kind = g.r.randrange(6)
    if kind == 0:
        d.add(
            f"{head}util.Utils: Successfully started service 'sparkExecutorActorSystem' on "
            f"port {g.port()}.\n"
        )
    elif kind == 1:
        d.add(
            f"{head}storage.DiskBlockManager: Created local directory at /opt/hdfs/nodemanager/"
            f"usercache/curi/appcache/application_{g.epoch()}{g.ms()}_{g.num(4)}/blockmgr-"
            f"{g.uuid()}\n"
        )
    elif kind == 2:
        task = f"{g.r.randrange(40)}.0"
        d.add(
            f"{head}executor.Executor: Finished task {task} in stage {g.r.randrange(9)}.0 (TID "
            f"{g.r.randrange(999)}). {g.r.randrange(9999)} bytes result sent to driver\n"
        )
    elif kind == 3:
        d.add(
            f"{head}storage.MemoryStore: Block broadcast_{g.r.randrange(99)}_piece0 stored as "
            f"bytes in memory (estimated size {g.r.randrange(99)}.{g.r.randrange(10)} KB, free "
            f"{g.r.randrange(99)}.{g.r.randrange(10)} GB)\n"
        )
    elif kind == 4:
        d.add(
            f"{head}broadcast.TorrentBroadcast: Reading broadcast variable {g.r.randrange(99)} "
            f"took {g.r.randrange(999)} ms\n"
        )
    else:
        d.add(
            f"{head}executor.CoarseGrainedExecutorBackend: Connecting to driver: "
            "spark://CoarseGrainedScheduler@"
        )
        d.add(g.ipv4(), scan.IP)
        d.add(f":{g.port()}\n")


def _zookeeper(g: _Log, d: Document) -> None:
    at = g.tick(20)
    head = f"{at:%Y-%m-%d %H:%M:%S},{g.ms()} - "
    kind = g.r.randrange(5)
    if kind == 0:
        d.add(
            f"{head}INFO  [QuorumPeer[myid={g.r.randrange(1, 6)}]/0:0:0:0:0:0:0:0:2181:"
            f"FastLeaderElection@{g.r.randrange(999)}] - Notification time out: "
            f"{g.r.randrange(99999)}\n"
        )
    elif kind == 1:
        d.add(f"{head}INFO  [/")
        d.add(g.ipv4(), scan.IP)
        d.add(":3888:QuorumCnxManager$Listener@493] - Received connection request /")
        d.add(g.ipv4(), scan.IP)
        d.add(f":{g.port()}\n")
    elif kind == 2:
        d.add(
            f"{head}WARN  [SendWorker:{g.r.randrange(1, 6) << 32 | g.r.randrange(2**31)}:"
            f"QuorumCnxManager$SendWorker@688] - Send worker leaving thread\n"
        )
    elif kind == 3:
        d.add(
            f"{head}INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1001] - "
            f"Closed socket connection for client /"
        )
        d.add(g.ipv4(), scan.IP)
        d.add(f":{g.port()} which had sessionid 0x{g.hex(15)}\n")
    else:
        d.add(
            f"{head}INFO  [ProcessThread(sid:3 cport:-1)::PrepRequestProcessor@627] - Got "
            f"user-level KeeperException when processing sessionid:0x{g.hex(15)} type:create "
            f"cxid:0x{g.hex(8)} zxid:0x{g.hex(9)} txntype:-1 reqpath:n/a Error "
            f"Path:/home/curi/zookeeper Error:KeeperErrorCode = NodeExists\n"
        )


def _hpc(g: _Log, d: Document) -> None:
    g.tick(60)
    head = f"{g.r.randrange(1, 500000)} node-{g.r.randrange(1, 400)} "
    kind = g.r.randrange(4)
    if kind == 0:
        d.add(
            f"{head}unix.hw state_change.unavailable {g.epoch()} 1 Component State Change: "
            f"Component \\042alt0\\042 is in the unavailable state (HWID={g.r.randrange(9999)})\n"
        )
    elif kind == 1:
        d.add(
            f"{head}action start {g.epoch()} 1 clusterAddMember  (command {g.r.randrange(9999)})\n"
        )
    elif kind == 2:
        d.add(
            f"{head}unix.hw state_change.unavailable {g.epoch()} 1 Component State Change: "
            f"Component \\042SCSI-WWID:{g.num(8)}:{g.num(4)}-{g.num(4)}-{g.num(4)}-{g.hex(4)}-"
            f"{g.num(4)}-{g.num(4)}-{g.hex(4)}-0000\\042 is in the unavailable state "
            f"(HWID={g.r.randrange(9999)})\n"
        )
    else:
        d.add(
            f"{head}boot_cmd new {g.epoch()} 1 Targeting domains:node-D1 and nodes:node-[40-63] "
            f"child of command {g.r.randrange(9999)}\n"
        )


def _windows_cbs(g: _Log, d: Document) -> None:
    at = g.tick(2)
    head = f"{at:%Y-%m-%d %H:%M:%S}, Info                  "
    build = f"6.1.{g.r.choice([7600, 7601])}.{g.r.randrange(16000, 24000)}"
    kind = g.r.randrange(6)
    if kind == 0:
        d.add(
            f"{head}CBS    Loaded Servicing Stack v{build} with Core: C:\\Windows\\winsxs\\"
            f"amd64_microsoft-windows-servicingstack_31bf3856ad364e35_{build}_none_{g.hex(16)}"
            f"\\cbscore.dll\n"
        )
    elif kind == 1:
        d.add(
            f"{head}CSI    {g.num(8)}@{at:%Y/%-m/%-d:%H:%M:%S}.{g.ms()} WcpInitialize (wcp.dll "
            f"version 0.0.0.{g.r.randrange(9)}) called (stack @0x{g.hex(11)} @0x{g.hex(11)} "
            f"@0x{g.hex(8)})\n"
        )
    elif kind == 2:
        d.add(
            f"{head}CBS    Session: {g.num(8)}_{g.r.randrange(10**10)} initialized by client "
            f"WindowsUpdateAgent.\n"
        )
    elif kind == 3:
        d.add(
            f"{head}CBS    Failed to internally open package. [HRESULT = 0x800f0805 - "
            f"CBS_E_INVALID_PACKAGE]\n"
        )
    elif kind == 4:
        d.add(
            f"{head}CBS    Read out cached package applicability for package: Package_for_KB"
            f"{g.r.randrange(10**6, 10**7)}~31bf3856ad364e35~amd64~~{g.r.randrange(1, 11)}.1."
            f"{g.r.randrange(10)}.{g.r.randrange(10)}, ApplicableState: 80, CurrentState:112\n"
        )
    else:
        d.add(
            f"{head}CSI    {g.num(8)} Performing {g.r.randrange(9999)} operations; "
            f"{g.r.randrange(999)} are not lock/unlock and follow:\n  LockComponentPath "
            f"(10): flags: 0 comp: {{l:16 b:{g.hex(32)}}}\n"
        )


def _logcat(g: _Log, d: Document) -> None:
    at = g.tick(0.2)
    gap = " " if g.r.random() < 0.5 else "  "
    head = f"{at:%m-%d %H:%M:%S}.{g.ms()}{gap}{g.pid()}{gap}{g.pid()} "
    kind = g.r.randrange(5)
    if kind == 0:
        d.add(
            f"{head}D PowerManagerService: acquire lock={g.r.randrange(10**9)}, flags=0x1, "
            f'tag="View Lock", name=com.android.systemui, ws=null, uid={g.r.randrange(10**4)}, '
            f"pid={g.pid()}\n"
        )
    elif kind == 1:
        d.add(
            f"{head}V WindowManager: Skipping AppWindowToken{{{g.hex(7)} token=Token{{"
            f"{g.hex(7)} ActivityRecord{{{g.hex(7)} u0 com.tencent.qt.qtl/.PlayerActivity "
            f"t{g.r.randrange(999)}}}}}}} -- going to hide\n"
        )
    elif kind == 2:
        d.add(
            f"{head}I ActivityManager: Displayed com.example.shop/.MainActivity: "
            f"+{g.r.randrange(2000)}ms\n"
        )
    elif kind == 3:
        d.add(
            f"{head}W ActivityManager: Slow operation: {g.r.randrange(50, 999)}ms so far, now "
            f"at startProcess: done updating pids map\n"
        )
    else:
        d.add(
            f"{head}D BatteryService: level={g.r.randrange(101)} voltage="
            f"{g.r.randrange(3000, 4400)} temperature={g.r.randrange(200, 450)}\n"
        )


def _bgl(g: _Log, d: Document) -> None:
    at = g.tick(60)
    node = (
        f"R{g.num(2)}-M{g.r.randrange(2)}-N{g.hex(1).upper()}-C:J{g.num(2)}-"
        f"U{g.r.choice(['01', '11'])}"
    )
    head = (
        f"{g.r.choice(['-', '-', 'APPREAD', 'KERNDTLB'])} {g.epoch()} {at:%Y.%m.%d} {node} "
        f"{at:%Y-%m-%d-%H.%M.%S}.{g.num(6)} {node} RAS "
    )
    kind = g.r.randrange(4)
    if kind == 0:
        d.add(f"{head}KERNEL INFO instruction cache parity error corrected\n")
    elif kind == 1:
        d.add(
            f"{head}KERNEL INFO {g.r.randrange(9)} ddr error(s) detected and corrected on rank "
            f"0, symbol {g.r.randrange(30)} over {g.r.randrange(99999)} seconds\n"
        )
    elif kind == 2:
        d.add(
            f"{head}APP FATAL ciod: failed to read message prefix on control stream "
            f"(CioStream socket to "
        )
        d.add(g.ipv4(), scan.IP)
        d.add(f":{g.port()}\n")
    else:
        d.add(f"{head}KERNEL INFO generating core.{g.r.randrange(9999)}\n")


def _thunderbird(g: _Log, d: Document) -> None:
    at = g.tick(30)
    host = g.r.choice(["tbird-admin1", "dn228", "cn734", "tbird-sm1", "aadmin1"])
    head = f"- {g.epoch()} {at:%Y.%m.%d} {host} {at:%b %-d %H:%M:%S} src@{host} "
    kind = g.r.randrange(4)
    if kind == 0:
        d.add(
            f"{head}postfix/postdrop[{g.pid()}]: warning: unable to look up public/pickup: No "
            f"such file or directory\n"
        )
    elif kind == 1:
        d.add(
            f"{head}ib_sm.x[{g.pid()}]: [ib_sm_sweep.c:{g.r.randrange(9999)}]: No topology change\n"
        )
    elif kind == 2:
        d.add(f"{head}dhcpd: DHCPACK on ")
        d.add(g.ipv4(), scan.IP)
        d.add(f" to {':'.join(g.hex(2) for _ in range(6))} via eth1\n")
    else:
        d.add(f"{head}crond(pam_unix)[{g.pid()}]: session closed for user root\n")


def _openssh(g: _Log, d: Document) -> None:
    at = g.tick(10)
    head = f"{at:%b %d %H:%M:%S} LabSZ sshd[{g.pid()}]: "
    ip = g.ip()
    kind = g.r.randrange(7)
    parts: list[tuple[str, str | None]]
    if kind == 0:
        parts = [
            ("reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [", None),
            (ip, scan.IP),
            ("] failed - POSSIBLE BREAK-IN ATTEMPT!", None),
        ]
    elif kind == 1:
        parts = [
            ("Failed password for invalid user webmaster from ", None),
            (ip, scan.IP),
            (f" port {g.port()} ssh2", None),
        ]
    elif kind == 2:
        parts = [
            ("Received disconnect from ", None),
            (ip, scan.IP),
            (": 11: Bye Bye [preauth]", None),
        ]
    elif kind == 3:
        parts = [
            ("Accepted publickey for deploy from ", None),
            (ip, scan.IP),
            (f" port {g.port()} ssh2: ED25519 SHA256:{g.hex(43)}", None),
        ]
    elif kind == 4:
        parts = [
            (
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                "ruser= rhost=",
                None,
            ),
            (ip, scan.IP),
            ("  user=root", None),
        ]
    elif kind == 5:
        parts = [
            (
                f"message repeated {g.r.randrange(2, 9)} times: [ Failed password for root from ",
                None,
            ),
            (ip, scan.IP),
            (f" port {g.port()} ssh2]", None),
        ]
    else:
        parts = [("pam_unix(sshd:session): session opened for user fztu by (uid=0)", None)]
    d.add(head)
    for text, kind_ in parts:
        d.add(text, kind_)
    d.add("\n")


def _proxifier(g: _Log, d: Document) -> None:
    at = g.tick(30)
    head = f"[{at:%m.%d %H:%M:%S}] {g.r.choice(['chrome.exe', 'Dropbox.exe', 'putty.exe'])} "
    kind = g.r.randrange(3)
    if kind == 0:
        d.add(
            f"{head}- proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 "
            f"HTTPS\n"
        )
    elif kind == 1:
        sent, got = g.r.randrange(10**6), g.r.randrange(10**7)
        d.add(
            f"{head}- client-cf.dropbox.com:443 close, {sent} bytes ({sent / 1024:.2f} KB) "
            f"sent, {got} bytes ({got / 1024:.2f} KB) received, lifetime "
            f"{g.r.randrange(60):02d}:{g.r.randrange(60):02d}\n"
        )
    else:
        d.add(f"{head}*64 - ")
        d.add(g.ipv4(), scan.IP)
        d.add(f":{g.port()} open through proxy proxy.cse.cuhk.edu.hk:5070 SOCKS5\n")


def _healthapp(g: _Log, d: Document) -> None:
    at = g.tick(0.5)
    head = f"{at:%Y%m%d-%H:%M:%S}:{g.ms()}|"
    kind = g.r.randrange(4)
    if kind == 0:
        d.add(
            f"{head}Step_LSC|30002312|onExtend:{g.epoch()}000 {g.r.randrange(99)} 0 "
            f"{g.r.randrange(9)}\n"
        )
    elif kind == 1:
        d.add(
            f"{head}Step_SPUtils|30002312| getTodayTotalDetailSteps = {g.epoch()}000##"
            f"{g.r.randrange(9999)}##{g.r.randrange(10**6)}##{g.r.randrange(9999)}##"
            f"{g.r.randrange(99999)}##{g.r.randrange(10**8)}\n"
        )
    elif kind == 2:
        d.add(
            f"{head}Step_StandReportReceiver|30002312|REPORT : {g.r.randrange(9999)} "
            f"{g.r.randrange(9999)} {g.r.randrange(10**6)} {g.r.randrange(999)}\n"
        )
    else:
        d.add(
            f"{head}Step_ExtSDM|30002312|calculateCaloriesWithCache totalCalories="
            f"{g.r.randrange(10**6)}\n"
        )


def _nginx(g: _Log, d: Document) -> None:
    at = g.tick(2)
    if g.r.random() < 0.5:
        d.add(g.ip(), scan.IP)
        d.add(
            f' - - [{at:%d/%b/%Y:%H:%M:%S} +0200] "GET {_path(g)} HTTP/2.0" 200 {g.size()} '
            f'"-" "{_agent(g)}" rt=0.{g.num(3)} uct=0.000 uht=0.{g.num(3)} '
            f"urt=0.{g.num(3)}\n"
        )
        return
    worker = g.pid()
    d.add(
        f"{at:%Y/%m/%d %H:%M:%S} [error] {worker}#{worker}: *{g.r.randrange(10**7)} connect() "
        "failed (111: Connection refused) while connecting to upstream, client: "
    )
    d.add(g.ip(), scan.IP)
    d.add(
        f', server: shop.example, request: "GET /api/health HTTP/1.1", upstream: '
        f'"http://127.0.0.1:{g.port()}/api/health", host: "shop.example"\n'
    )


def _journal(g: _Log, d: Document) -> None:
    at = g.tick(5)
    session = g.r.randrange(10**6)
    head = (
        f"{at:%Y-%m-%dT%H:%M:%S}+0200 web1 " if g.r.random() < 0.3 else f"{at:%b %d %H:%M:%S} web1 "
    )
    kind = g.r.randrange(6)
    if kind == 0:
        d.add(
            f"{head}systemd[1]: session-{session}.scope: Consumed {g.r.randrange(9)}."
            f"{g.num(3)}s CPU time.\n"
        )
    elif kind == 1:
        d.add(
            f"{head}systemd[1]: apt-daily-upgrade.service: Consumed {g.r.randrange(9)}min "
            f"{g.r.randrange(60)}.{g.num(3)}s CPU time, {g.r.randrange(999)}.{g.r.randrange(10)}"
            f"M memory peak, 0B memory swap peak.\n"
        )
    elif kind == 2:
        d.add(f"{head}systemd-logind[{g.pid()}]: New session {session} of user deploy.\n")
    elif kind == 3:
        d.add(
            f"{head}systemd-resolved[{g.pid()}]: Using degraded feature set UDP instead of "
            f"UDP+EDNS0 for DNS server "
        )
        d.add(g.ipv4(), scan.IP)
        d.add(".\n")
    elif kind == 4:
        d.add(
            f"{head}CRON[{g.pid()}]: (root) CMD (command -v debian-sa1 > /dev/null && "
            f"debian-sa1 1 1)\n"
        )
    else:
        d.add(
            f'{{"__REALTIME_TIMESTAMP":"{g.epoch()}{g.num(6)}","_PID":"{g.pid()}",'
            f'"_COMM":"sshd","_BOOT_ID":"{g.hex(32)}","MESSAGE":"Accepted publickey for '
            f"deploy from "
        )
        d.add(g.ipv4(), scan.IP)
        d.add(f' port {g.port()} ssh2","_SOURCE_REALTIME_TIMESTAMP":"{g.epoch()}{g.num(6)}"}}\n')


def _postfix(g: _Log, d: Document) -> None:
    at = g.tick(5)
    head = f"{at:%b %d %H:%M:%S} mx1 postfix/"
    queue = "".join(
        g.r.choice("BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789") for _ in range(15)
    )
    kind = g.r.randrange(3)
    if kind == 0:
        d.add(
            f"{head}cleanup[{g.pid()}]: {queue}: message-id=<{at:%Y%m%d%H%M%S}."
            f"{g.pid()}.{g.r.randrange(99)}@web1.shop.example>\n"
        )
    elif kind == 1:
        d.add(f"{head}qmgr[{g.pid()}]: {queue}: from=<")
        d.add("noreply@shop.example", scan.EMAIL)
        d.add(f">, size={g.size()}, nrcpt=1 (queue active)\n")
    else:
        d.add(f"{head}smtp[{g.pid()}]: {queue}: to=<")
        d.add(g.r.choice(["drift@kund.example", "faktura@bolaget.example"]), scan.EMAIL)
        d.add(">, relay=mx.kund.example[")
        d.add(g.ipv4(), scan.IP)
        d.add(
            f"]:25, delay=0.{g.num(2)}, delays=0.01/0/0.3/0.6, dsn=2.0.0, status=sent (250 "
            f"2.0.0 OK {g.epoch()} a{g.hex(12)}-{g.num(10)}si.1 - gsmtp)\n"
        )


def _config(g: _Log, d: Document) -> None:
    r = g.r
    kind = r.randrange(4)
    if kind == 0:
        d.add(
            f"[mysqld]\nbind-address = 127.0.0.1\nport = 3306\nmax_connections = "
            f"{r.randrange(50, 1000)}\ninnodb_buffer_pool_size = {r.choice([2**27, 2**30])}\n"
            f"wait_timeout = 28800\nserver-id = {r.randrange(1, 9)}\nlog_bin = "
            f"/var/log/mysql/mysql-bin.log\nexpire_logs_days = 10\n\n[php]\nmemory_limit = "
            f"256M\nupload_max_filesize = 20M\ndate.timezone = Europe/Stockholm\n"
            f"session.gc_maxlifetime = 1440\n; built {at_stamp(g)} by ci-{g.num(6)}\n\n"
        )
    elif kind == 1:
        d.add(
            f'version: "3.8"\nservices:\n  db:\n    image: postgres:15.{r.randrange(9)}-alpine\n'
            f'    ports:\n      - "5432:5432"\n  web:\n    image: registry.example.com/shop/'
            f"web@sha256:{g.hex(64)}\n    deploy:\n      replicas: {r.randrange(1, 9)}\n"
            f'      resources:\n        limits: {{cpus: "0.{r.randrange(10, 99)}", memory: '
            f"512M}}\n    healthcheck:\n      interval: 30s\n      timeout: 10s\n"
            f'metadata:\n  uid: {g.uuid()}\n  resourceVersion: "{g.num(8)}"\n'
            f'  creationTimestamp: "{at_stamp(g)}"\nspec:\n  clusterIP: '
        )
        d.add(f"10.96.{r.randrange(256)}.{r.randrange(1, 255)}", scan.IP)
        d.add(
            f"\n  ports:\n  - port: 443\n    targetPort: 8443\n    nodePort: "
            f"{r.randrange(30000, 32768)}\n\n"
        )
    elif kind == 2:
        d.add(
            "worker_processes auto;\nworker_rlimit_nofile 65535;\nevents { worker_connections "
            "4096; }\nhttp {\n  client_max_body_size 20m;\n  keepalive_timeout 65;\n  "
            "upstream app { server 127.0.0.1:8000 max_fails=3 fail_timeout=30s; }\n  server "
            "{\n    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n    server_name "
            "shop.example;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_timeout 1d;\n"
            '    add_header Strict-Transport-Security "max-age=63072000" always;\n    allow '
            "10.0.0.0/8; deny all;\n    location /static/ { expires 30d; }\n  }\n}\n\n"
        )
    else:
        d.add(
            f'<dependentAssembly>\n  <assemblyIdentity name="Newtonsoft.Json" '
            f'publicKeyToken="30ad4fe6b2a6aeed" culture="neutral" />\n  <bindingRedirect '
            f'oldVersion="0.0.0.0-13.0.0.0" newVersion="13.0.0.0" />\n</dependentAssembly>\n'
            f'<add assembly="System.Web.Mvc, Version={r.randrange(1, 6)}.0.0.0, '
            f'Culture=neutral, PublicKeyToken=31bf3856ad364e35" />\n'
            f"; SOA serial {at_stamp(g)[:10].replace('-', '')}{g.num(2)}\n"
            f"@ IN SOA ns1.shop.example. hostmaster.shop.example. ( "
            f"{at_stamp(g)[:10].replace('-', '')}01 3600 900 1209600 300 )\n\n"
        )


def at_stamp(g: _Log) -> str:
    return f"{g.at:%Y-%m-%dT%H:%M:%S}Z"


def _code(g: _Log, d: Document) -> None:
    r = g.r
    parts = f"{g.at:%Y, %-m, %-d, %-H, %-M, %-S}"
    if r.random() < 0.5:
        d.add(
            f'__version__ = "{g.version()}"\nTIMEOUT = {g.duration()}\nMAX_BYTES = '
            f'{r.randrange(10**6, 10**9):_}\nHASH = "{g.hex(64)}"\nREQUEST_ID = '
            f'"{g.uuid()}"\n\n\ndef retry(attempts: int = {r.randrange(2, 9)}, delay: float = '
            f"{r.random():.3f}) -> None:\n    for i in range(attempts):\n        time.sleep("
            f'delay * 2 ** i)\n\n\napp.run(host="0.0.0.0", port={g.port()})\nassert parse('
            f'"{g.at:%Y-%m-%d %H:%M:%S}.{g.ms()}") == datetime({parts}, '
            f'{int(g.ms()) * 1000})\nassert checksum(b"\\x00" * {g.size()}) == '
            f"0x{g.hex(8)}\n\n"
        )
    else:
        d.add(
            f"const PORT = process.env.PORT || {g.port()};\nsetTimeout(() => controller.abort(),"
            f' {r.randrange(1, 60) * 1000});\nexport const version = "{g.version()}";\n'
            f"fetch(`/api/v1/items/${{id}}?limit={r.randrange(100)}&offset=0`);\n"
            f'const re = /^\\d{{3}}-\\d{{2}}-\\d{{4}}$/;\nimport lodash from "lodash@4.17.21";\n'
            f'// <img src="/static/logo@2x.png" srcset="/static/logo@3x.png 3x">\n'
            f"console.log(`took ${{(performance.now() - t0).toFixed(3)}} ms`);  // "
            f"{g.duration()} ms on node v{g.version()}\n\n"
        )


def _json(g: _Log, d: Document) -> None:
    g.tick(1)
    d.add(
        f'{{"ts": "{g.at:%Y-%m-%dT%H:%M:%S}.{g.ms()}Z", "level": "info", "pid": {g.pid()}, '
        f'"msg": "request done", "status": 200, "bytes": {g.size()}, "duration_ms": '
        f'{g.duration()}, "trace_id": "{g.hex(32)}", "span_id": "{g.hex(16)}", '
        f'"remote_addr": "'
    )
    d.add(g.ipv4(), scan.IP)
    d.add(
        f'", "user_agent": "{_agent(g)}", "build": "{g.version()}", "epoch_ms": '
        f"{g.epoch()}{g.ms()}}}\n"
    )


def _csv(g: _Log, d: Document) -> None:
    g.tick(60)
    r = g.r
    stamp = g.r.choice([at_stamp(g), str(g.epoch()), f"{g.at:%Y-%m-%d %H:%M:%S}"])
    d.add(
        f"{stamp},web{r.randrange(1, 9)},{r.random() * 100:.{r.randrange(1, 4)}f},"
        f"{r.random():.2f},{g.size()},{g.size()},{r.random() * 4:.2f},{r.randrange(10**8)},"
        f"{r.randrange(10**10)},0.{g.num(3)} {r.randrange(10**5)}\n"
    )


_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _inventory(g: _Log, d: Document) -> None:
    """Backups, hardware and cloud inventories: stamps of twelve digits, upper-case ids."""
    at = g.tick(3600)
    r = g.r
    kind = r.randrange(5)
    if kind == 0:
        d.add(
            f"{at:%Y-%m-%d %H:%M:%S} backup: snapshot {at:%Y%m%d%H%M} of /srv/www done, "
            f"{g.size()} bytes in {g.duration()} s, id {g.hex(16).upper()}\n"
        )
    elif kind == 1:
        d.add(
            f"DIMM_{r.choice('ABCD')}{r.randrange(1, 5)} Slot {r.randrange(1, 9)} "
            f"{r.choice([8192, 16384, 32768])} Mb DDR4 {r.choice([2400, 2666, 3200])} MHz "
            f"serial {g.hex(8).upper()} part M393A{g.hex(4).upper()}{r.randrange(10, 99)}CB1-CWE\n"
        )
    elif kind == 2:
        d.add(
            f"{{{g.uuid().upper()}}} EventID {r.randrange(1, 9999)} Keywords "
            f"0x{g.hex(16).upper()} Correlation {{{g.uuid().upper()}}} "
            f"Task {r.randrange(100)} Opcode {r.randrange(10)}\n"
        )
    elif kind == 3:
        d.add(
            f"arn:aws:ec2:eu-north-1:{g.num(12)}:instance/i-{g.hex(17)} "
            f"AccessKeyId AKIA{''.join(r.choice(_BASE32) for _ in range(16))} "
            f"volume vol-{g.hex(17)} snapshot {at:%Y%m%d%H%M}\n"
        )
    else:
        serial = f"{at:%Y%m%d}{g.num(2)}"
        d.add(
            f"$TTL 3600\n@ IN SOA ns1.shop.example. hostmaster.shop.example. ( {serial} 3600 "
            f"900 1209600 300 )\n@ IN A "
        )
        d.add(g.ipv4(), scan.IP)
        d.add('\nwww IN CNAME @\n_dmarc IN TXT "v=DMARC1; p=none; pct=100"\n\n')


TECHNICAL = {
    "openstack": _openstack,
    "hdfs": _hdfs,
    "apache_access": _apache_access,
    "apache_error": _apache_error,
    "syslog": _syslog,
    "kernel": _kernel,
    "macos": _macos,
    "spark": _spark,
    "zookeeper": _zookeeper,
    "hpc": _hpc,
    "windows_cbs": _windows_cbs,
    "logcat": _logcat,
    "bgl": _bgl,
    "thunderbird": _thunderbird,
    "openssh": _openssh,
    "proxifier": _proxifier,
    "healthapp": _healthapp,
    "nginx": _nginx,
    "journal": _journal,
    "postfix": _postfix,
    "config": _config,
    "code": _code,
    "json": _json,
    "csv": _csv,
    "inventory": _inventory,
}


def technical(lines: int = 500, seed: int = 1) -> dict[str, Document]:
    """One document per kind of technical file, `lines` entries each. Its labels are the IP
    and e-mail addresses it holds; anything else the scanner finds in it is false."""
    out = {}
    for i, (name, write) in enumerate(TECHNICAL.items()):
        g = _Log(seed * 1000 + i)
        d = Document()
        if name == "csv":
            d.add(
                "timestamp,host,cpu_pct,mem_ratio,disk_read_bytes,net_rx_bytes,load1,uptime_s,"
                "inodes,latency\n"
            )
        for _ in range(lines):
            write(g, d)
        out[name] = d
    return out
