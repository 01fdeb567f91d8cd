#!/usr/bin/env bash
# Installs pioreactord on a Raspberry Pi (or any Debian-like Linux for a leader): binary,
# user, data directory, config, environment file and systemd unit. Safe to run again: what
# exists is kept (config.ini and /etc/pioreactor.env are never overwritten), the binary and
# the unit are replaced, the service restarted. See docs/deploy.md.
#
#   sudo deploy/install.sh --role worker --binary dist/pioreactord-linux-arm64
#
# ROOT=/some/dir installs under that directory instead of / and skips users, groups and
# systemctl (for packaging and for testing this script).
set -euo pipefail

role=worker
binary=
start=1
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; echo "options: --role worker|leader|both  --binary FILE  --no-start"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --role) role=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $role in worker|leader|both) ;; *) echo "install.sh: --role is worker, leader or both" >&2; exit 2 ;; esac

ROOT=${ROOT:-}
user=pioreactor
home=/home/$user
dot=$home/.pioreactor
say() { echo "install.sh: $*"; }

if [[ -z $ROOT && $(id -u) -ne 0 ]]; then echo "install.sh: run as root (sudo)" >&2; exit 1; fi

# The binary: the one given, else the release build matching this machine.
if [[ -z $binary ]]; then
  case $(uname -m) in
    aarch64|arm64) binary=dist/pioreactord-linux-arm64 ;;
    armv7l) binary=dist/pioreactord-linux-armv7 ;;
    armv6l) binary=dist/pioreactord-linux-armv6 ;;
    *) binary=bin/pioreactord ;;
  esac
fi
[[ -x $binary ]] || { echo "install.sh: no executable $binary (make release, or --binary FILE)" >&2; exit 1; }

# User and groups: gpio for /dev/gpiochip* and /sys/class/pwm, i2c for /dev/i2c-1.
if [[ -z $ROOT ]]; then
  for g in gpio i2c; do getent group $g >/dev/null || { groupadd --system $g; say "created group $g"; }; done
  if ! id $user >/dev/null 2>&1; then
    useradd --create-home --home-dir $home --shell /bin/bash --user-group $user
    say "created user $user"
  fi
  usermod -a -G gpio,i2c $user
fi
own() { [[ -z $ROOT ]] && chown "$user:$user" "$@" || true; }

install -d -m 0755 "$ROOT/usr/local/bin" "$ROOT/etc/systemd/system"
if ! cmp -s "$binary" "$ROOT/usr/local/bin/pioreactord"; then
  install -m 0755 "$binary" "$ROOT/usr/local/bin/pioreactord.new"
  mv -f "$ROOT/usr/local/bin/pioreactord.new" "$ROOT/usr/local/bin/pioreactord" # atomic over a running one
  say "installed $("$ROOT/usr/local/bin/pioreactord" --version 2>/dev/null || echo pioreactord) in /usr/local/bin"
fi

for d in "$dot" "$dot/storage" "$dot/hardware" "$dot/models"; do
  [[ -d $ROOT$d ]] || { install -d -m 0775 "$ROOT$d"; own "$ROOT$d"; }
done

# config.ini: the template on first install; a leader gets its own secrets, a worker must get
# the leader's file (the leader copies it to every unit).
conf=$ROOT$dot/config.ini
if [[ ! -e $conf ]]; then
  install -m 0640 "$here/config.ini" "$conf"
  if [[ $role != worker ]]; then
    secret() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
    sed -i "s/^password=raspberry$/password=$(secret)/" "$conf"
    printf '\n[ui_basic_auth]\napi_key=%s\n' "$(secret)" >>"$conf"
    say "wrote $dot/config.ini with a new MQTT password and API key"
  else
    say "wrote the template $dot/config.ini: replace it with the leader's (it holds the cluster's credentials)"
  fi
  own "$conf"
fi

env=$ROOT/etc/pioreactor.env
if [[ ! -e $env ]]; then
  printf 'DOT_PIOREACTOR=%s\nPIOREACTORD_ROLE=%s\n' "$dot" "$role" >"$env"
  chmod 0644 "$env"
  say "wrote /etc/pioreactor.env"
fi

unit=pioreactord-worker.service
[[ $role != worker ]] && unit=pioreactord-leader.service
other=pioreactord-leader.service
[[ $unit == "$other" ]] && other=pioreactord-worker.service
install -m 0644 "$here/$unit" "$ROOT/etc/systemd/system/$unit"

# The Pi's boot config: I2C on, and GPIO 12/13 routed to the PWM block (needs a reboot).
for boot in "$ROOT/boot/firmware/config.txt" "$ROOT/boot/config.txt"; do
  [[ -f $boot && $role != leader ]] || continue
  for line in "dtparam=i2c_arm=on" "dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4"; do
    grep -qxF "$line" "$boot" || { echo "$line" >>"$boot"; say "added $line to $boot: reboot before starting"; }
  done
  break
done

if [[ -z $ROOT ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  systemctl disable --now "$other" 2>/dev/null || true
  systemctl enable "$unit" >/dev/null
  if [[ $start == 1 ]]; then
    systemctl restart "$unit"
    say "started $unit (journalctl -u $unit -f)"
  fi
fi
say "done: check the hardware with: sudo -u $user pioreactord hardware check"
