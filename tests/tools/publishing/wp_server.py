"""A real WordPress for the tests: Debian's ``wordpress`` package on the local MariaDB, served
by PHP's built-in server on 127.0.0.1.

The package's own wp-config.php reads /etc/wordpress/config-<host>.php; rather than write
there, a site folder of symlinks to /usr/share/wordpress holds our own wp-config.php (its
database, WP_ENVIRONMENT_TYPE 'local' so application passwords work over plain HTTP, and a
wp-content of its own for the uploads). A router script gives PHP's server what Apache's
rewrite rules give WordPress: ``/wp-json/<route>`` is the REST API (``rest_route``), a file
that exists is served, anything else goes to index.php. WordPress is installed with
wp_install() and the application password made with
WP_Application_Passwords::create_new_application_password(), both from php-cli.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

WORDPRESS = Path("/usr/share/wordpress")
PACKAGES = ["wordpress", "php-cli", "php-mysql"]
ADMIN = "editor"

CONFIG = """<?php
define('DB_NAME', %(db)s);
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '127.0.0.1');
define('DB_CHARSET', 'utf8mb4');
define('WP_HOME', %(url)s);
define('WP_SITEURL', %(url)s);
define('WP_CONTENT_DIR', %(content)s);
define('WP_CONTENT_URL', %(url)s . '/wp-content');
// application passwords need HTTPS, or a site that says it is a local one
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
%(salts)s
$table_prefix = 'wp_';
if (!defined('ABSPATH')) { define('ABSPATH', __DIR__ . '/'); }
require_once ABSPATH . 'wp-settings.php';
"""

ROUTER = """<?php
// What Apache's rewrite rules do for WordPress, for PHP's built-in server.
define('ABSPATH', %(site)s . '/');
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
file_put_contents(%(log)s, $_SERVER['REQUEST_METHOD'] . ' ' . $path . "\n", FILE_APPEND);
if (preg_match('#^/wp-json(/.*)?$#', $path, $m)) {
    $_GET['rest_route'] = isset($m[1]) && $m[1] !== '' ? $m[1] : '/';
    $_SERVER['SCRIPT_NAME'] = '/index.php';
    require ABSPATH . 'index.php';
    return true;
}
$file = realpath(ABSPATH . ltrim($path, '/'));
if ($file !== false && is_file($file)) {
    if (substr($file, -4) === '.php') {
        chdir(dirname($file));
        require $file;
        return true;
    }
    return false;  // a static file: the server sends it
}
require ABSPATH . 'index.php';
return true;
"""

INSTALL = """<?php
define('WP_INSTALLING', true);
define('ABSPATH', %(site)s . '/');
$_SERVER['HTTP_HOST'] = %(host)s;
$_SERVER['REQUEST_URI'] = '/';
$db = new mysqli('127.0.0.1', 'root', '');
$db->query('CREATE DATABASE IF NOT EXISTS `' . %(db)s . '` CHARACTER SET utf8mb4');
require ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$result = wp_install('Studio test blog', %(user)s, 'editor@example.com', false, '',
                     wp_generate_password(24));
$user_id = $result['user_id'];
list($password, $item) = WP_Application_Passwords::create_new_application_password(
    $user_id, array('name' => 'agenticai-lab tests'));
echo json_encode(array('user_id' => $user_id, 'app_password' => $password));
"""

DROP = """<?php
$db = new mysqli('127.0.0.1', 'root', '');
$db->query('DROP DATABASE IF EXISTS `' . %(db)s . '`');
"""


def php(value: str) -> str:
    return json.dumps(value)  # a JSON string is a PHP string literal too


@dataclass
class WordPressSite:
    url: str
    user: str
    app_password: str
    site: Path
    database: str
    process: subprocess.Popen[bytes]

    def requests(self) -> list[str]:
        """'POST /wp-json/wp/v2/media', ... every request the site was sent, in order."""
        log = self.site.parent / "requests.log"
        return log.read_text().splitlines() if log.exists() else []

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/wp-json", auth=(self.user, self.app_password),
                            timeout=30)

    def stop(self) -> None:
        # the server forks its workers (PHP_CLI_SERVER_WORKERS): end the whole group, or
        # they outlive it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        subprocess.run(["php", "-r", DROP.removeprefix("<?php") % {"db": php(self.database)}],
                       capture_output=True, check=False, timeout=60)


def unavailable() -> str | None:
    """Why there can be no WordPress here (None: there can), installing the Debian packages
    first when we are root and they are missing."""
    if not (WORDPRESS / "wp-settings.php").is_file() or shutil.which("php") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            return "Debian's wordpress package is not installed (apt-get install -y " \
                   "wordpress php-cli php-mysql, as root)"
        done = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                               *PACKAGES], capture_output=True, text=True, check=False,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if done.returncode != 0:
            return f"apt-get could not install {' '.join(PACKAGES)}: {done.stderr[-200:]}"
    try:
        socket.create_connection(("127.0.0.1", 3306), timeout=2).close()
    except OSError:
        return "MariaDB is not listening on 127.0.0.1:3306 (.ci/services starts it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_site(root: Path, url: str, database: str) -> Path:
    """The site folder: symlinks to the package's files, our wp-config.php, our wp-content."""
    site = root / "site"
    site.mkdir(parents=True)
    for entry in WORDPRESS.iterdir():
        if entry.name not in ("wp-config.php", "wp-content", ".htaccess"):
            (site / entry.name).symlink_to(entry)
    content = site / "wp-content"
    (content / "uploads").mkdir(parents=True)
    for part in ("themes", "plugins"):
        (content / part).symlink_to(WORDPRESS / "wp-content" / part)
    salts = "\n".join(f"define('{name}', {php(secrets.token_hex(32))});" for name in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
        "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
    (site / "wp-config.php").write_text(CONFIG % {
        "db": php(database), "url": php(url), "content": php(str(content)), "salts": salts})
    (root / "router.php").write_text(ROUTER % {"site": php(str(site)),
                                               "log": php(str(root / "requests.log"))})
    return site


def start(root: Path) -> WordPressSite:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = f"agenticai_wp_{secrets.token_hex(4)}"
    site = make_site(root, url, database)
    installer = root / "install.php"
    installer.write_text(INSTALL % {"site": php(str(site)), "host": php(f"127.0.0.1:{port}"),
                                    "db": php(database), "user": php(ADMIN)})
    done = subprocess.run(["php", str(installer)], capture_output=True, text=True,
                          check=False, timeout=300, cwd=site)
    if done.returncode != 0 or not done.stdout.strip().startswith("{"):
        raise RuntimeError(f"WordPress did not install: {done.stdout[-500:]} {done.stderr[-500:]}")
    installed = json.loads(done.stdout.strip().splitlines()[-1])
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        ["php", "-d", "upload_max_filesize=64M", "-d", "post_max_size=64M",
         "-S", f"127.0.0.1:{port}", "-t", str(site), str(root / "router.php")],
        stdout=log, stderr=subprocess.STDOUT, cwd=site, start_new_session=True,
        env={**os.environ, "PHP_CLI_SERVER_WORKERS": "2"})
    wordpress = WordPressSite(url, ADMIN, installed["app_password"], site, database, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/wp-json/", timeout=5).status_code == 200:
                return wordpress
        except httpx.HTTPError:
            time.sleep(0.2)
    wordpress.stop()
    raise RuntimeError(f"WordPress's server did not answer on {url}")
