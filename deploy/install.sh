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
#
# It runs as root on a machine that other users share, so it trusts no path
# it did not make: every file is written to a fresh temporary file in its
# own folder (mktemp) and renamed into place, secrets never exist with a
# mode that others could read, folders and kept files must be root's and
# closed to others, symbolic links are resolved and checked, never followed
# blindly, and an interrupted run leaves no temporary file behind.
set -eu
unset CDPATH
umask 022

usage() {
  cat <<'EOF'
Usage: install.sh [OPTIONS]
       install.sh --uninstall [--purge] [--root DIR]

Installs ammp-agent as the systemd service ammp-agent, enables it and
(re)starts it.

  --binary PATH         the agent executable (default: ammp-agent-<arch>-unknown-linux-gnu
                        in the current folder, else in ../dist beside this script); it
                        must answer --version as the agent before it replaces anything
  --env-file PATH       settings to install as /etc/ammp-agent/agent.env; an existing
                        agent.env is never overwritten (edit it there instead; without
                        this option, a template is installed)
  --password-file PATH  the broker password, installed as /etc/ammp-agent/mqtt-password
                        (mode 0600, read by systemd and handed to the agent as a credential)
  --ca-file PATH        the broker's CA certificate, installed as /etc/ammp-agent/ca.crt
  --no-start            install and enable, but do not start or restart
  --fix-permissions     make /etc/ammp-agent and the files kept there root's and closed
                        to other users, instead of refusing to go on
  --root DIR            install into DIR, an absolute path other than /, instead of /
                        (for images and packages); enables the unit offline and never
                        starts it
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

# The temporary file being written, removed if the run stops half-way.
tmp=
cleanup() {
  if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

script_dir=$(cd -P -- "$(dirname -- "$0")" && pwd -P)
root=
binary=
env_file=
password_file=
ca_file=
start=yes
uninstall=no
purge=no
fix=no

while [ $# -gt 0 ]; do
  case $1 in
  --binary | --env-file | --password-file | --ca-file | --root)
    [ $# -ge 2 ] || fail "Missing value after $1"
    case $1 in
    --binary) binary=$2 ;;
    --env-file) env_file=$2 ;;
    --password-file) password_file=$2 ;;
    --ca-file) ca_file=$2 ;;
    --root)
      root=$2
      [ -n "$root" ] || fail "Invalid --root \"\": expected an absolute path other than /"
      ;;
    esac
    shift 2
    ;;
  --no-start) start=no && shift ;;
  --fix-permissions) fix=yes && shift ;;
  --uninstall) uninstall=yes && shift ;;
  --purge) purge=yes && shift ;;
  -h | --help) usage && exit 0 ;;
  *) fail "Unknown option \"$1\"; see install.sh --help" ;;
  esac
done

[ "$purge" = no ] || [ "$uninstall" = yes ] || fail "--purge goes with --uninstall"

# A relative file name is taken from the current folder (not from PATH), and
# never read as an option by the commands it is given to.
local_path() {
  case $1 in /*) printf '%s\n' "$1" ;; *) printf './%s\n' "$1" ;; esac
}

live=yes
if [ -n "$root" ]; then
  live=no
  case $root in /*) ;; *) fail "Invalid --root \"$root\": expected an absolute path other than /" ;; esac
  # "//", "/./" and "/tmp/.." are / as well.
  canonical=$(printf '%s\n' "$root" | sed -e 's#/\./#/#g; s#/\.$##; s#//*#/#g; s#/$##')
  resolved=
  if [ -d "$root" ]; then resolved=$(cd -P -- "$root" && pwd -P); fi
  case $canonical in "" | */.. | */../*) canonical= ;; esac
  if [ -z "$canonical" ] || [ "$resolved" = / ]; then
    fail "Invalid --root \"$root\": expected an absolute path other than / and without .. (run without --root to install into /)"
  fi
  mkdir -p -- "$root"
  root=$(cd -P -- "$root" && pwd -P)
  [ "$root" != / ] || fail "Invalid --root: it resolves to /, expected another folder"
else
  [ "$(id -u)" -eq 0 ] || fail "Cannot install into /: run as root (sudo)"
  command -v systemctl >/dev/null || fail "Cannot find systemctl: this script needs systemd"
fi

unit=ammp-agent.service
bin_dir=$root/usr/local/bin
bin_path=$bin_dir/ammp-agent
conf_dir=$root/etc/ammp-agent
unit_dir=$root/etc/systemd/system
unit_path=$unit_dir/$unit
state_dir=$root/var/lib/ammp-agent
private_state_dir=$root/var/lib/private/ammp-agent
# Who must own what this script keeps: root, or the user who installs into --root.
owner=$(id -u)

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

mode_of() { stat -c %a -- "$1"; }
owner_of() { stat -c %u -- "$1"; }

# Where folder $1 really is: itself, or, when it or a folder above it is a
# symbolic link, what that resolves to. Under --root, a folder that resolves
# outside the root is refused: nothing outside it is ever written.
real_dir() {
  real=$(readlink -f -- "$1") || fail "Cannot resolve $1"
  if [ "$live" = no ]; then
    case $real/ in "$root"/*) ;; *) fail "Refusing $1: it resolves to $real, outside --root $root" ;; esac
  fi
  if [ "$real" != "$1" ] && [ "${2:-}" != quiet ]; then
    echo "Using $real for $1 (a symbolic link)" >&2
  fi
  printf '%s\n' "$real"
}

# Checks folder $1 (resolved) that this script writes into: it must be a
# folder, owned by root and writable by nobody else. The agent's own folder
# ($2 = mend) must not be writable by its group either, and
# --fix-permissions mends its owner and mode; a system folder such as
# /usr/local/bin may be writable by its group (Debian's staff).
check_dir() {
  [ -d "$1" ] || fail "Refusing $1: it is not a folder"
  open=002
  if [ "${2:-}" = mend ]; then open=022; fi
  if [ "$(owner_of "$1")" != "$owner" ] || [ $((0$(mode_of "$1") & 0$open)) -ne 0 ]; then
    if [ "${2:-}" = mend ] && [ "$fix" = yes ]; then
      chown -- "$owner:$(id -g)" "$1"
      chmod -- go-w "$1"
      echo "Fixed the owner and mode of $1" >&2
    elif [ "${2:-}" = mend ]; then
      fail "Refusing $1: owned by uid $(owner_of "$1") with mode $(mode_of "$1"), others could change what it holds; run with --fix-permissions to make it root's and writable by root only"
    else
      fail "Refusing $1: owned by uid $(owner_of "$1") with mode $(mode_of "$1"), others could change what it holds"
    fi
  fi
}

# Checks the folders above folder $1 (resolved), up to / or to --root: each
# must be owned by root and writable by no one else (a sticky folder such as
# /tmp aside), or another user could rename what lies below and put their
# own in its place.
check_parents() {
  above=$(dirname -- "$1")
  while :; do
    if [ "$live" = no ]; then
      case $above/ in "$root"/*) ;; *) break ;; esac
    fi
    if [ "$(owner_of "$above")" != "$owner" ] ||
      { [ $((0$(mode_of "$above") & 02)) -ne 0 ] && [ ! -k "$above" ]; }; then
      fail "Refusing $1: the folder above it, $above, is owned by uid $(owner_of "$above") with mode $(mode_of "$above"), others could replace what it holds"
    fi
    [ "$above" != / ] || break
    above=$(dirname -- "$above")
  done
}

# Makes folder $1 if it is missing (mode 0755), then resolves and checks it
# and the folders above it. Prints the folder to use.
make_dir() {
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then
    # mkdir -p goes through links above: where they lead is checked first.
    parent=$1
    while [ ! -e "$parent" ] && [ ! -L "$parent" ]; do parent=$(dirname -- "$parent"); done
    real_dir "$parent" quiet >/dev/null
    mkdir -p -- "$1"
    chmod -- 0755 "$1"
  fi
  dir=$(real_dir "$1") || exit
  check_parents "$dir"
  check_dir "$dir" "${2:-}"
  printf '%s\n' "$dir"
}

# Checks file $1 that is kept as it is: a regular file (not a link), owned
# by root, and closed to others as mode $2 says (0600: no one else may read
# it; 0640: others may not read it, no one else may change it; 0644: no one
# else may change it). --fix-permissions sets owner and mode instead.
check_kept() {
  if [ -L "$1" ] || [ ! -f "$1" ]; then
    fail "Refusing $1: it is not a regular file; put the file itself there"
  fi
  case $2 in
  0600) closed=077 ;;
  0640) closed=037 ;;
  *) closed=022 ;;
  esac
  if [ "$(owner_of "$1")" != "$owner" ] || [ $((0$(mode_of "$1") & 0$closed)) -ne 0 ]; then
    if [ "$fix" = yes ]; then
      chown -- "$owner:$(id -g)" "$1"
      chmod -- "$2" "$1"
      echo "Fixed the owner and mode of $1 ($2)"
    else
      fail "Refusing $1: owned by uid $(owner_of "$1") with mode $(mode_of "$1"), expected root's with mode $2; run with --fix-permissions to set them"
    fi
  fi
}

# Installs $1 as $2 with mode $3 unless $2 already is a regular file with
# that content and mode. The content goes to a fresh temporary file beside
# $2 (mktemp: a planted file or link there is never written through), made
# root's with its final mode, then renamed over $2, so a running binary is
# replaced, not changed, and a secret is never readable by others.
put() {
  if [ -d "$2" ] && [ ! -L "$2" ]; then fail "Refusing $2: it is a folder, expected a file there"; fi
  if [ ! -L "$2" ] && [ -f "$2" ] && cmp -s -- "$1" "$2" &&
    [ "$(mode_of "$2")" = "${3#0}" ] && [ "$(owner_of "$2")" = "$owner" ]; then
    return 0
  fi
  tmp=$(mktemp -- "$(dirname -- "$2")/.ammp-agent.XXXXXXXX")
  cat -- "$1" >"$tmp"
  chmod -- "$3" "$tmp"
  mv -fT -- "$tmp" "$2"
  tmp=
  echo "Installed $2"
  changed=yes
}

# Removes folder $1; a symbolic link and what it points to are removed, and
# the script says so first. Under --root, a target outside the root stays.
remove_dir() {
  if [ -L "$1" ]; then
    target=$(readlink -f -- "$1") || target=
    inside=yes
    if [ "$live" = no ]; then
      case $target/ in "$root"/*) ;; *) inside=no ;; esac
    fi
    if [ -n "$target" ] && [ -e "$target" ] && [ "$inside" = yes ]; then
      echo "Removing $target, which $1 points to"
      rm -rf -- "$target"
    elif [ -n "$target" ] && [ -e "$target" ]; then
      echo "Kept $target, which $1 points to: it is outside --root $root"
    fi
    rm -f -- "$1"
    echo "Removed $1"
  elif [ -e "$1" ]; then
    rm -rf -- "$1"
    echo "Removed $1"
  fi
}

if [ "$uninstall" = yes ]; then
  if [ -e "$unit_path" ]; then
    if [ "$live" = yes ]; then systemctl_do disable --now "$unit" || true; else systemctl_do disable "$unit"; fi
  fi
  for path in "$unit_path" "$bin_path"; do
    if [ -e "$path" ] || [ -L "$path" ]; then rm -f -- "$path" && echo "Removed $path"; fi
  done
  [ "$live" = no ] || systemctl daemon-reload
  if [ "$purge" = yes ]; then
    for path in "$conf_dir" "$state_dir" "$private_state_dir" "$unit_path.d"; do
      remove_dir "$path"
    done
  else
    echo "Kept $conf_dir and $state_dir (remove them with --uninstall --purge)"
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
binary=$(local_path "$binary")
for pair in "--env-file:$env_file" "--password-file:$password_file" "--ca-file:$ca_file"; do
  option=${pair%%:*} path=${pair#*:}
  [ -z "$path" ] || [ -f "$path" ] || fail "Cannot read $option \"$path\": file not found"
done
if [ -n "$env_file" ]; then env_file=$(local_path "$env_file"); fi
if [ -n "$password_file" ]; then password_file=$(local_path "$password_file"); fi
if [ -n "$ca_file" ]; then ca_file=$(local_path "$ca_file"); fi
for file in "$unit" agent.env; do
  [ -f "$script_dir/$file" ] || fail "Cannot find $file beside install.sh in $script_dir"
done

# The binary must run here and be the agent before it replaces anything: a
# build for another CPU would leave a service that cannot start.
[ -x "$binary" ] || fail "Refusing --binary \"$binary\": it is not executable (chmod +x)"
version=$(timeout 30 "$binary" --version </dev/null 2>/dev/null | head -n 1) || version=
case $version in
"ammp-agent "[0-9]*) ;;
*) fail "Refusing --binary \"$binary\": it does not run here as ammp-agent (\"$binary --version\" printed \"$version\"); is it built for $(uname -m)?" ;;
esac

changed=no
# A refusal inside $(...) ends only the subshell: stop here as well.
bin_dir=$(make_dir "$bin_dir") || exit
unit_dir=$(make_dir "$unit_dir") || exit
conf_dir=$(make_dir "$conf_dir" mend) || exit
bin_path=$bin_dir/ammp-agent
unit_path=$unit_dir/$unit

# What is kept must be closed to others before anything new is added.
if [ -e "$conf_dir/agent.env" ] || [ -L "$conf_dir/agent.env" ]; then
  check_kept "$conf_dir/agent.env" 0640
fi
for secret in mqtt-password mqtt-key metrics-token; do
  if [ -e "$conf_dir/$secret" ] || [ -L "$conf_dir/$secret" ]; then
    if [ "$secret" != mqtt-password ] || [ -z "$password_file" ]; then
      check_kept "$conf_dir/$secret" 0600
    fi
  fi
done
if [ -z "$ca_file" ] && { [ -e "$conf_dir/ca.crt" ] || [ -L "$conf_dir/ca.crt" ]; }; then
  check_kept "$conf_dir/ca.crt" 0644
fi

put "$binary" "$bin_path" 0755
if [ -e "$conf_dir/agent.env" ]; then
  if [ -n "$env_file" ] && ! cmp -s -- "$env_file" "$conf_dir/agent.env"; then
    echo "Kept the existing $conf_dir/agent.env; $env_file was not installed."
    echo "To change a setting, edit $conf_dir/agent.env, then run: systemctl restart $unit"
  fi
else
  put "${env_file:-$script_dir/agent.env}" "$conf_dir/agent.env" 0640
fi
if [ -n "$password_file" ]; then put "$password_file" "$conf_dir/mqtt-password" 0600; fi
if [ -n "$ca_file" ]; then put "$ca_file" "$conf_dir/ca.crt" 0644; fi
put "$script_dir/$unit" "$unit_path" 0644

[ "$live" = no ] || systemctl daemon-reload
systemctl_do enable "$unit"

# Whether the service runs the installed binary, started after the files it
# reads were last written. Whatever an earlier run did (--no-start, an
# interrupted run), a service that runs anything else is restarted.
current() {
  pid=$(systemctl show -p MainPID --value "$unit")
  [ -n "$pid" ] && [ "$pid" -gt 0 ] || return 1
  [ "$(stat -L -c %d:%i -- "/proc/$pid/exe" 2>/dev/null)" = "$(stat -c %d:%i -- "$bin_path")" ] || return 1
  started=$(systemctl show --timestamp=unix -p ExecMainStartTimestamp --value "$unit" 2>/dev/null) ||
    started=
  started=${started#@}
  case $started in
  "" | *[!0-9]*)
    # systemd before 251 has no --timestamp=unix: read its English date.
    started=$(LC_ALL=C systemctl show -p ExecMainStartTimestamp --value "$unit")
    started=$(date -d "$started" +%s 2>/dev/null) || return 1
    ;;
  esac
  for file in "$bin_path" "$unit_path" "$conf_dir"/agent.env "$conf_dir"/mqtt-password \
    "$conf_dir"/mqtt-key "$conf_dir"/metrics-token "$conf_dir"/ca.crt; do
    if [ -e "$file" ] && [ "$(stat -c %Y -- "$file")" -gt "$started" ]; then return 1; fi
  done
}

if [ "$live" = no ]; then
  echo "Installed and enabled $unit in $root; not started"
elif [ "$start" = no ]; then
  if systemctl is-active --quiet "$unit" && ! current; then
    echo "Installed and enabled $unit; not restarted (--no-start): it still runs what was installed before."
    echo "Run install.sh again without --no-start, or: systemctl restart $unit"
  else
    echo "Installed and enabled $unit; not started (--no-start)"
  fi
elif cmp -s -- "$script_dir/agent.env" "$conf_dir/agent.env"; then
  echo "Installed and enabled $unit; not started: edit $conf_dir/agent.env, then run"
  echo "  systemctl start $unit"
elif [ "$changed" = yes ] || ! systemctl is-active --quiet "$unit" || ! current; then
  systemctl restart "$unit"
  echo "Started $unit; check it with: systemctl status $unit"
  if [ ! -e "$conf_dir/mqtt-password" ]; then
    echo "There is no $conf_dir/mqtt-password: with MQTT_USERNAME set, the agent stops and says so."
  fi
else
  echo "$unit is up to date and running"
fi
