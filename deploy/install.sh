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
# It checks everything it needs (systemd running, the files it is given, the
# folders it writes into) before it writes anything: a refused run changes
# nothing, and says why in one line. After a start it waits a few seconds to
# see that the service stays up, and shows its journal when it does not.
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
  --credential NAME=PATH
                        a secret the unit hands to the agent as the credential NAME,
                        installed as /etc/ammp-agent/NAME (mode 0600): mqtt-key (the TLS
                        client key), metrics-token, or mqtt-password (as --password-file)
  --no-start            install and enable, but do not start or restart
  --fix-permissions     make /etc/ammp-agent and the files kept there root's and closed
                        to other users, instead of refusing to go on
  --root DIR            install into DIR, an absolute path other than /, instead of /
                        (for images and packages, or where systemd is not running);
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
unit=ammp-agent.service
nl='
'
# The secrets the unit loads as credentials, each from /etc/ammp-agent/NAME:
# the unit owns the list.
names=
if [ -f "$script_dir/$unit" ]; then
  names=$(sed -n 's/^LoadCredential=\([^:]*\):.*/\1/p' -- "$script_dir/$unit")
fi
known_names=$(printf '%s\n' "$names" | paste -s -d , - | sed 's/,/, /g')
# How long a (re)started service must stay active to count as up, in seconds.
settle=5
root=
binary=
env_file=
# The credentials to install, one NAME=PATH a line.
credentials=
ca_file=
start=yes
uninstall=no
purge=no
fix=no

# A relative file name is taken from the current folder (not from PATH), and
# never read as an option by the commands it is given to.
local_path() {
  case $1 in /*) printf '%s\n' "$1" ;; *) printf './%s\n' "$1" ;; esac
}

# Refuses, in the check phase, file $2 given as $1 (for messages) unless it
# can be read: a failed read while writing would leave half an install.
need_file() {
  [ -f "$2" ] || fail "Cannot read $1: file not found"
  [ -r "$2" ] || fail "Cannot read $1: permission denied"
}

# Takes file $3 as the credential $2, given as $1 (the option, for messages).
add_credential() {
  [ -n "$names" ] || fail "Cannot find $unit beside install.sh in $script_dir"
  known=no
  for name in $names; do [ "$name" != "$2" ] || known=yes; done
  [ "$known" = yes ] ||
    fail "Invalid $1: unknown name \"$2\", expected one of $known_names"
  case $nl$credentials in *"$nl$2="*) fail "Invalid $1: $2 is given twice" ;; esac
  case $3 in *"$nl"*) fail "Invalid $1: the file name holds a line break" ;; esac
  need_file "$1" "$3"
  credentials=$credentials$2=$(local_path "$3")$nl
}

while [ $# -gt 0 ]; do
  case $1 in
  --binary | --env-file | --password-file | --credential | --ca-file | --root)
    [ $# -ge 2 ] || fail "Missing value after $1"
    case $1 in
    --binary) binary=$2 ;;
    --env-file) env_file=$2 ;;
    --password-file) add_credential "--password-file \"$2\"" mqtt-password "$2" ;;
    --credential)
      case $2 in
      *=*) add_credential "--credential \"$2\"" "${2%%=*}" "${2#*=}" ;;
      *)
        [ -n "$names" ] || fail "Cannot find $unit beside install.sh in $script_dir"
        fail "Invalid --credential \"$2\": expected NAME=FILE, NAME one of $known_names"
        ;;
      esac
      ;;
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

live=yes
if [ -n "$root" ]; then
  live=no
  case $root in /*) ;; *) fail "Invalid --root \"$root\": expected an absolute path other than /" ;; esac
  # "//", "/./" and "/tmp/.." are / as well.
  canonical=$(printf '%s\n' "$root" | sed -e 's#/\./#/#g; s#/\.$##; s#//*#/#g; s#/$##')
  case $canonical in "" | */.. | */../*) canonical= ;; esac
  # Where the root is, or will be once made: links in it and above resolved.
  resolved=$(readlink -m -- "$root") || fail "Cannot resolve --root \"$root\""
  if [ -z "$canonical" ] || [ "$resolved" = / ]; then
    fail "Invalid --root \"$root\": expected an absolute path other than / and without .. (run without --root to install into /)"
  fi
  if [ -e "$root" ] && [ ! -d "$root" ]; then
    fail "Invalid --root \"$root\": it is not a folder"
  fi
  root=$resolved
else
  # Without a running systemd (a container, a chroot, a build machine)
  # systemctl cannot enable, start or stop anything: refuse before any file
  # is written. /run/systemd/system is how systemd tells it runs (sd_booted);
  # systemctl must reach it as well.
  if [ "$uninstall" = yes ]; then action="uninstall from"; else action="install into"; fi
  missing=
  if ! command -v systemctl >/dev/null; then
    missing="systemctl is not installed"
  elif [ -d /run/systemd/system ]; then
    state=$(systemctl is-system-running 2>/dev/null) || true
    case $state in
    "" | offline | unknown) missing="systemd does not answer here (systemctl is-system-running: \"$state\")" ;;
    esac
  fi
  if [ ! -d /run/systemd/system ]; then
    missing="${missing:+$missing and }systemd is not running here (no /run/systemd/system)"
  fi
  if [ -n "$missing" ]; then
    fail "Cannot $action /: $missing; run it on the machine that runs systemd, or pass --root DIR to lay out the files for another system"
  fi
  [ "$(id -u)" -eq 0 ] || fail "Cannot $action /: run as root (sudo)"
fi

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

# The layout below runs twice: first with phase=check, which writes nothing
# and says nothing but a refusal, so that every refusal comes before the
# first change; then with phase=write, which makes and installs.
phase="check"

# Where folder $1 really is: itself, or, when it or a folder above it is a
# symbolic link, what that resolves to. Under --root, a folder that resolves
# outside the root is refused: nothing outside it is ever written.
real_dir() {
  real=$(readlink -f -- "$1") || fail "Cannot resolve $1"
  if [ "$live" = no ]; then
    case $real/ in "$root"/*) ;; *) fail "Refusing $1: it resolves to $real, outside --root $root" ;; esac
  fi
  if [ "$real" != "$1" ] && [ "${2:-}" != quiet ] && [ "$phase" = write ]; then
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
      [ "$phase" = write ] || return 0
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

# Checks folder $2 and the folders above it, up to / or to --root, on behalf
# of folder $1 below them: each must be owned by root and writable by no one
# else (a sticky folder such as /tmp aside), or another user could rename
# what lies below and put their own in its place.
check_chain() {
  above=$2
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
# and the folders above it. Prints the folder to use. With phase=check, a
# missing folder is not made: the folder it would be made in is checked.
make_dir() {
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then
    # mkdir -p goes through links above: where they lead is checked first.
    parent=$1
    while [ ! -e "$parent" ] && [ ! -L "$parent" ]; do parent=$(dirname -- "$parent"); done
    if [ "$phase" = check ]; then
      # A root still to be made holds nothing to check.
      if [ "$live" = no ]; then
        case $parent/ in "$root"/*) ;; *) printf '%s\n' "$1" && return 0 ;; esac
      fi
      real=$(real_dir "$parent" quiet) || exit
      [ -d "$real" ] || fail "Refusing $1: $parent is not a folder"
      check_chain "$1" "$real"
      printf '%s\n' "$1"
      return 0
    fi
    real_dir "$parent" quiet >/dev/null
    mkdir -p -- "$1"
    chmod -- 0755 "$1"
  fi
  dir=$(real_dir "$1") || exit
  check_chain "$dir" "$(dirname -- "$dir")"
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
      [ "$phase" = write ] || return 0
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
  [ "$phase" = write ] || return 0
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
need_file "--binary \"$binary\"" "$binary"
binary=$(local_path "$binary")
for pair in "--env-file:$env_file" "--ca-file:$ca_file"; do
  option=${pair%%:*} path=${pair#*:}
  [ -z "$path" ] || need_file "$option \"$path\"" "$path"
done
if [ -n "$env_file" ]; then env_file=$(local_path "$env_file"); fi
if [ -n "$ca_file" ]; then ca_file=$(local_path "$ca_file"); fi
for file in "$unit" agent.env; do
  [ -f "$script_dir/$file" ] || fail "Cannot find $file beside install.sh in $script_dir"
  [ -r "$script_dir/$file" ] || fail "Cannot read $file beside install.sh in $script_dir: permission denied"
done

# The binary must run here and be the agent before it replaces anything: a
# build for another CPU would leave a service that cannot start.
[ -x "$binary" ] || fail "Refusing --binary \"$binary\": it is not executable (chmod +x)"
version=$(timeout 30 "$binary" --version </dev/null 2>/dev/null | head -n 1) || version=
case $version in
"ammp-agent "[0-9]*) ;;
*) fail "Refusing --binary \"$binary\": it does not run here as ammp-agent (\"$binary --version\" printed \"$version\"); is it built for $(uname -m)?" ;;
esac

# Checks (phase=check) or installs (phase=write) every folder and file.
lay_out() {
  # A refusal inside $(...) ends only the subshell: stop here as well.
  bin_dir=$(make_dir "$root/usr/local/bin") || exit
  unit_dir=$(make_dir "$root/etc/systemd/system") || exit
  conf_dir=$(make_dir "$root/etc/ammp-agent" mend) || exit
  bin_path=$bin_dir/ammp-agent
  unit_path=$unit_dir/$unit

  # What is kept must be closed to others before anything new is added.
  if [ -e "$conf_dir/agent.env" ] || [ -L "$conf_dir/agent.env" ]; then
    check_kept "$conf_dir/agent.env" 0640
  fi
  for name in $names; do
    case $nl$credentials in *"$nl$name="*) continue ;; esac
    if [ -e "$conf_dir/$name" ] || [ -L "$conf_dir/$name" ]; then
      check_kept "$conf_dir/$name" 0600
    fi
  done
  if [ -z "$ca_file" ] && { [ -e "$conf_dir/ca.crt" ] || [ -L "$conf_dir/ca.crt" ]; }; then
    check_kept "$conf_dir/ca.crt" 0644
  fi

  put "$binary" "$bin_path" 0755
  if [ -e "$conf_dir/agent.env" ]; then
    if [ "$phase" = write ] && [ -n "$env_file" ] && ! cmp -s -- "$env_file" "$conf_dir/agent.env"; then
      echo "Kept the existing $conf_dir/agent.env; $env_file was not installed."
      echo "To change a setting, edit $conf_dir/agent.env, then run: systemctl restart $unit"
    fi
  else
    put "${env_file:-$script_dir/agent.env}" "$conf_dir/agent.env" 0640
  fi
  while IFS= read -r pair; do
    if [ -n "$pair" ]; then put "${pair#*=}" "$conf_dir/${pair%%=*}" 0600; fi
  done <<END
$credentials
END
  if [ -n "$ca_file" ]; then put "$ca_file" "$conf_dir/ca.crt" 0644; fi
  put "$script_dir/$unit" "$unit_path" 0644
}

changed=no
lay_out
phase="write"
if [ "$live" = no ]; then mkdir -p -- "$root"; fi
lay_out

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
  for file in "$bin_path" "$unit_path" "$conf_dir"/agent.env "$conf_dir"/ca.crt; do
    if [ -e "$file" ] && [ "$(stat -c %Y -- "$file")" -gt "$started" ]; then return 1; fi
  done
  for name in $names; do
    if [ -e "$conf_dir/$name" ] && [ "$(stat -c %Y -- "$conf_dir/$name")" -gt "$started" ]; then
      return 1
    fi
  done
}

# (Re)starts the service and watches it for $settle seconds: a bad setting
# or a missing secret stops the agent within them, and a crash shows as a
# state other than active, since systemd restarts it only after RestartSec=.
# Says in one line that it stayed up, or shows the journal and ends the run.
start_service() {
  since=$(date +%s)
  if ! systemctl restart "$unit"; then
    echo "install.sh: Cannot start $unit; the last lines of its journal:" >&2
    journalctl -u "$unit" -n 20 --no-pager >&2 || true
    exit 1
  fi
  restarts=$(systemctl show -p NRestarts --value "$unit") || restarts=
  deadline=$((since + settle))
  while :; do
    state=$(systemctl is-active "$unit") || true
    case $state in active | reloading) ;; *) break ;; esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      [ "$(systemctl show -p NRestarts --value "$unit")" = "$restarts" ] || state="restarted"
      break
    fi
    sleep 0.5
  done
  case $state in
  active | reloading)
    echo "Started $unit: still active $settle s later; see it with: systemctl status $unit"
    ;;
  *)
    echo "install.sh: $unit did not stay active: $state $(($(date +%s) - since)) s after it was started; the last lines of its journal:" >&2
    journalctl -u "$unit" -n 20 --no-pager >&2 || true
    exit 1
    ;;
  esac
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
  start_service
else
  echo "$unit is up to date and running"
fi
