#!/bin/sh
# Installs ammp-agent as a systemd service, or removes it. Safe to run again:
# a second run with the same arguments changes nothing, and an upgrade is a
# run with the new binary.
#
#   sudo ./install.sh --binary ammp-agent-aarch64-unknown-linux-gnu \
#     --env-file agent.env --password-file mqtt-password --ca-file ca.crt
#   sudo ./install.sh --uninstall [--purge]
#
# Run ./install.sh --help for every option.
set -eu

usage() {
  cat <<'EOF'
Usage: install.sh [OPTIONS]
       install.sh --uninstall [--purge] [--root DIR]

Installs ammp-agent as the systemd service ammp-agent, enables it and
(re)starts it.

  --binary PATH         the agent executable (default: ammp-agent-<arch>-unknown-linux-gnu
                        in the current folder, else in ../dist beside this script)
  --env-file PATH       settings to install as /etc/ammp-agent/agent.env; an existing
                        agent.env is never overwritten (without it, a template is installed)
  --password-file PATH  the broker password, installed as /etc/ammp-agent/mqtt-password
                        (mode 0600, read by systemd and handed to the agent as a credential)
  --ca-file PATH        the broker's CA certificate, installed as /etc/ammp-agent/ca.crt
  --no-start            install and enable, but do not start or restart
  --root DIR            install into DIR instead of / (for images and packages);
                        enables the unit offline and never starts it
  --uninstall           stop, disable and remove the service and the binary; keeps
                        /etc/ammp-agent and the records in /var/lib/ammp-agent
  --purge               with --uninstall: remove those as well
  -h, --help            show this help
EOF
}

fail() {
  echo "install.sh: $*" >&2
  exit 2
}

script_dir=$(cd "$(dirname "$0")" && pwd)
root=/
binary=
env_file=
password_file=
ca_file=
start=yes
uninstall=no
purge=no

while [ $# -gt 0 ]; do
  case $1 in
  --binary | --env-file | --password-file | --ca-file | --root)
    [ $# -ge 2 ] || fail "Missing value after $1"
    case $1 in
    --binary) binary=$2 ;;
    --env-file) env_file=$2 ;;
    --password-file) password_file=$2 ;;
    --ca-file) ca_file=$2 ;;
    --root) root=$2 ;;
    esac
    shift 2
    ;;
  --no-start) start=no && shift ;;
  --uninstall) uninstall=yes && shift ;;
  --purge) purge=yes && shift ;;
  -h | --help) usage && exit 0 ;;
  *) fail "Unknown option \"$1\"; see install.sh --help" ;;
  esac
done

[ "$purge" = no ] || [ "$uninstall" = yes ] || fail "--purge goes with --uninstall"
case $root in /*) ;; *) root=$(pwd)/$root ;; esac
root=${root%/}
live=no
if [ -z "$root" ]; then
  live=yes
  [ "$(id -u)" -eq 0 ] || fail "Cannot install into /: run as root (sudo)"
  command -v systemctl >/dev/null || fail "Cannot find systemctl: this script needs systemd"
fi

unit=ammp-agent.service
bin_path=$root/usr/local/bin/ammp-agent
conf_dir=$root/etc/ammp-agent
unit_path=$root/etc/systemd/system/$unit
records_dir=$root/var/lib/ammp-agent

# Runs systemctl on the live system, or offline on --root (enable/disable only).
systemctl_do() {
  if [ "$live" = yes ]; then
    systemctl "$@"
  elif command -v systemctl >/dev/null; then
    case $1 in enable | disable) systemctl --quiet --root="$root" "$@" ;; esac
  else
    echo "No systemctl: not running \"systemctl $*\" for $root"
  fi
}

# Copies $1 to $2 with mode $3 unless $2 already has that content and mode.
# The copy is renamed into place, so a running binary is replaced, not
# changed, and a secret is never readable by others on its way.
put() {
  if [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c %a "$2")" = "${3#0}" ]; then
    return 0
  fi
  mkdir -p "$(dirname "$2")"
  tmp="$2.new.$$"
  (umask 077 && cp "$1" "$tmp")
  chmod "$3" "$tmp"
  mv -f "$tmp" "$2"
  echo "Installed $2"
  changed=yes
}

if [ "$uninstall" = yes ]; then
  if [ -e "$unit_path" ]; then
    if [ "$live" = yes ]; then systemctl_do disable --now "$unit" || true; else systemctl_do disable "$unit"; fi
  fi
  for path in "$unit_path" "$bin_path"; do
    if [ -e "$path" ]; then rm -f "$path" && echo "Removed $path"; fi
  done
  [ "$live" = no ] || systemctl daemon-reload
  if [ "$purge" = yes ]; then
    for path in "$conf_dir" "$records_dir" "$unit_path.d"; do
      if [ -e "$path" ]; then rm -rf "$path" && echo "Removed $path"; fi
    done
  else
    echo "Kept $conf_dir and $records_dir (remove them with --uninstall --purge)"
  fi
  exit 0
fi

if [ -z "$binary" ]; then
  name=ammp-agent-$(uname -m)-unknown-linux-gnu
  for candidate in "./$name" "$script_dir/../dist/$name"; do
    if [ -f "$candidate" ]; then binary=$candidate && break; fi
  done
  [ -n "$binary" ] || fail "Cannot find $name here or in $script_dir/../dist; pass --binary PATH"
fi
[ -f "$binary" ] || fail "Cannot read --binary \"$binary\": file not found"
for pair in "--env-file:$env_file" "--password-file:$password_file" "--ca-file:$ca_file"; do
  option=${pair%%:*} path=${pair#*:}
  [ -z "$path" ] || [ -f "$path" ] || fail "Cannot read $option \"$path\": file not found"
done
for file in "$unit" agent.env; do
  [ -f "$script_dir/$file" ] || fail "Cannot find $file beside install.sh in $script_dir"
done

changed=no
put "$binary" "$bin_path" 0755
mkdir -p "$conf_dir" "$records_dir"
chmod 0755 "$conf_dir" "$records_dir"
if [ -e "$conf_dir/agent.env" ]; then
  if [ -n "$env_file" ] && ! cmp -s "$env_file" "$conf_dir/agent.env"; then
    echo "Kept the existing $conf_dir/agent.env; $env_file was not installed"
  fi
else
  put "${env_file:-$script_dir/agent.env}" "$conf_dir/agent.env" 0640
fi
if [ -n "$password_file" ]; then put "$password_file" "$conf_dir/mqtt-password" 0600; fi
if [ -n "$ca_file" ]; then put "$ca_file" "$conf_dir/ca.crt" 0644; fi
put "$script_dir/$unit" "$unit_path" 0644

[ "$live" = no ] || systemctl daemon-reload
systemctl_do enable "$unit"

if [ "$live" = no ] || [ "$start" = no ]; then
  echo "Installed and enabled $unit; not started"
elif cmp -s "$script_dir/agent.env" "$conf_dir/agent.env"; then
  echo "Installed and enabled $unit; not started: edit $conf_dir/agent.env, then run"
  echo "  systemctl start $unit"
elif [ ! -e "$conf_dir/mqtt-password" ]; then
  echo "Installed and enabled $unit; not started: $conf_dir/mqtt-password is missing."
  echo "Put the broker password there (install.sh --password-file FILE), then run"
  echo "  systemctl start $unit"
elif [ "$changed" = yes ] || ! systemctl is-active --quiet "$unit"; then
  systemctl restart "$unit"
  echo "Started $unit; check it with: systemctl status $unit"
else
  echo "$unit is up to date and running"
fi
