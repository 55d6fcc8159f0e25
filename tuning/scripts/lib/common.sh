# shellcheck shell=bash
# tuning/scripts/lib/common.sh — shared by the tuning scripts (sourced, never run).
#
# What every script gets from here:
#   - every /sys and /proc path goes through tl_path, prefixed with $TICKLINE_SYSROOT (default
#     /), so the scripts can run against a fake tree in tests;
#   - tl_set: an idempotent write (compare the normalised value, write only when it differs,
#     read it back), printed as one line per path:
#         ok: PATH is VALUE
#         would write: PATH = VALUE (now OLD)        (--dry-run)
#         write: PATH = VALUE (was OLD)
#   - tl_run: a command (systemctl, taskset) printed as "would run:" / "run:"; against a fake
#     tree commands are skipped unless TICKLINE_SYSTEMCTL / TICKLINE_TASKSET name a stand-in;
#   - the first original value of everything written is saved in
#     $TICKLINE_STATE_DIR/NAME.state (default SYSROOT/var/lib/tickline-tuning) for --revert;
#   - a closing line: "nothing to change", "N change(s) made" or "dry run: N change(s) would
#     be made, nothing changed"; exit 1 when a write failed, 2 on bad arguments.

TL_ROOT="${TICKLINE_SYSROOT:-/}"
TL_ROOT="${TL_ROOT%/}"          # "" for the live host
TL_DRY_RUN=0
TL_REVERT=0
TL_CHANGES=0
TL_FAILURES=0
TL_NAME="${TL_NAME:-tuning}"
TL_STATE_DIR="${TICKLINE_STATE_DIR:-$TL_ROOT/var/lib/tickline-tuning}"
TL_STATE="$TL_STATE_DIR/$TL_NAME.state"
# set by a caller for writes the kernel may refuse by design (managed IRQs): such a failure
# is reported as "cannot" and does not fail the run
TL_REFUSAL_IS_EXPECTED=0
TL_REFUSED=0

tl_die() { echo "$TL_NAME: $*" >&2; exit 2; }
tl_warn() { echo "warn: $*"; }
tl_note() { echo "$*"; }
tl_fail() { echo "FAILED: $*"; TL_FAILURES=$((TL_FAILURES + 1)); }

tl_live() { [[ -z $TL_ROOT ]]; }
tl_path() { printf '%s%s' "$TL_ROOT" "$1"; }
tl_exists() { [[ -e "$TL_ROOT$1" ]]; }

# The file's content with trailing newlines removed (fails when unreadable).
tl_read() {
    local file="$TL_ROOT$1"
    [[ -r $file ]] || return 1
    local text
    text=$(<"$file") || return 1
    printf '%s' "$text"
}

# Common flags; a script calls this from its own argument loop. Returns 1 for a flag it does
# not know.
tl_common_flag() {
    case $1 in
        --dry-run|-n) TL_DRY_RUN=1 ;;
        --revert) TL_REVERT=1 ;;
        *) return 1 ;;
    esac
}

# Refuses to change a live host without root (a fake tree needs no privileges).
tl_require_root() {
    if tl_live && (( ! TL_DRY_RUN )) && [[ $(id -u) != 0 ]]; then
        tl_die "changing this host needs root (try --dry-run to see what would change)"
    fi
    if ! tl_live; then echo "host tree: $TL_ROOT"; fi
}

# --- CPU lists and masks ------------------------------------------------------------------

# "0-3,8" -> "0 1 2 3 8" (sorted, unique); fails on anything else.
tl_cpus_expand() {
    local list="${1//[[:space:]]/}" part i
    local -a out=() parts=()
    [[ -z $list ]] && return 0
    IFS=, read -ra parts <<< "$list"
    for part in "${parts[@]}"; do
        [[ -z $part ]] && continue
        if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
            local a=$((10#${BASH_REMATCH[1]})) b=$((10#${BASH_REMATCH[2]}))
            (( a <= b )) || return 1
            for ((i = a; i <= b; i++)); do out+=("$i"); done
        elif [[ $part =~ ^[0-9]+$ ]]; then
            out+=("$((10#$part))")
        else
            return 1
        fi
    done
    printf '%s\n' "${out[@]}" | sort -n -u | paste -sd ' ' -
}

# "0 1 2 3 8" -> "0-3,8"
tl_cpus_format() {
    local -a ids
    read -ra ids <<< "$1"
    local text="" start="" prev="" c
    for c in "${ids[@]}" end; do
        if [[ $c != end && -n $prev && $c -eq $((prev + 1)) ]]; then prev=$c; continue; fi
        if [[ -n $start ]]; then
            text+=${text:+,}
            if [[ $start == "$prev" ]]; then text+=$start; else text+="$start-$prev"; fi
        fi
        start=$c; prev=$c
    done
    printf '%s' "$text"
}

# Canonical form of a CPU list ("0,1,2" -> "0-2"); fails when it is not one.
tl_cpus_canonical() {
    local expanded
    expanded=$(tl_cpus_expand "$1") || return 1
    tl_cpus_format "$expanded"
}

# Kernel hex mask ("ff,00000003": 32-bit groups, lowest last) -> canonical CPU list.
tl_mask_to_cpus() {
    local mask="${1//[[:space:]]/}" group value bit base=0 i
    local -a groups=() ids=()
    IFS=, read -ra groups <<< "$mask"
    for ((i = ${#groups[@]} - 1; i >= 0; i--)); do
        group=${groups[i]}
        [[ $group =~ ^[0-9a-fA-F]{1,8}$ ]] || return 1
        value=$((16#$group))
        for ((bit = 0; bit < 32; bit++)); do
            if (( (value >> bit) & 1 )); then ids+=("$((base + bit))"); fi
        done
        base=$((base + 32))
    done
    tl_cpus_format "${ids[*]}"
}

# CPU list -> kernel hex mask (32-bit groups, comma separated, highest first).
tl_cpus_to_mask() {
    local -a ids
    read -ra ids <<< "$(tl_cpus_expand "$1")"
    local max=0 c g
    for c in "${ids[@]}"; do (( c > max )) && max=$c; done
    local count=$((max / 32 + 1))
    local -a groups=()
    for ((g = 0; g < count; g++)); do groups[g]=0; done
    for c in "${ids[@]}"; do groups[c / 32]=$(( groups[c / 32] | (1 << (c % 32)) )); done
    local out
    out=$(printf '%x' "${groups[count - 1]}")
    for ((g = count - 2; g >= 0; g--)); do out+=$(printf ',%08x' "${groups[g]}"); done
    printf '%s' "$out"
}

# CPUs in list A that are not in list B (canonical list).
tl_cpus_minus() {
    local -a a b
    read -ra a <<< "$(tl_cpus_expand "$1")"
    read -ra b <<< "$(tl_cpus_expand "$2")"
    local -A drop=()
    local c out=()
    for c in "${b[@]}"; do drop[$c]=1; done
    for c in "${a[@]}"; do [[ -n ${drop[$c]:-} ]] || out+=("$c"); done
    tl_cpus_format "${out[*]}"
}

# Succeeds when every CPU of list A is in list B.
tl_cpus_within() { [[ -z $(tl_cpus_minus "$1" "$2") ]]; }

tl_online_cpus() {
    local online
    online=$(tl_read /sys/devices/system/cpu/online) || tl_die "cannot read $(tl_path /sys/devices/system/cpu/online)"
    tl_cpus_canonical "$online"
}

# Validates a CPU list given on the command line against the online CPUs; prints it canonical.
tl_parse_cpus() {
    local what=$1 list=$2 canonical online
    canonical=$(tl_cpus_canonical "$list") || tl_die "$what: '$list' is not a CPU list (such as 2-5,7)"
    [[ -n $canonical ]] || tl_die "$what: empty CPU list"
    online=$(tl_online_cpus)
    tl_cpus_within "$canonical" "$online" || tl_die "$what: CPUs $(tl_cpus_minus "$canonical" "$online") are not online (online: $online)"
    printf '%s' "$canonical"
}

# --- idempotent writes --------------------------------------------------------------------

# Normalised value of a file or argument, by kind:
#   raw       trimmed text
#   cpulist   canonical CPU list
#   cpumask   a hex mask, as a canonical CPU list
#   selected  the [bracketed] choice of "always [madvise] never" (the text itself if none)
tl_norm() {
    local kind=$1 value=$2
    value="${value#"${value%%[![:space:]]*}"}"
    value="${value%"${value##*[![:space:]]}"}"
    case $kind in
        raw) printf '%s' "$value" ;;
        cpulist) tl_cpus_canonical "$value" || printf '%s' "$value" ;;
        cpumask) tl_mask_to_cpus "$value" || printf '%s' "$value" ;;
        selected)
            if [[ $value =~ \[([^]]+)\] ]]; then printf '%s' "${BASH_REMATCH[1]}"; else printf '%s' "$value"; fi ;;
        *) tl_die "internal: unknown kind $kind" ;;
    esac
}

# Saves the original value of KEY (first time only) for --revert.
tl_save() {
    local kind=$1 key=$2 value=$3
    (( TL_REVERT )) && return 0
    mkdir -p "$TL_STATE_DIR"
    if [[ -f $TL_STATE ]] && awk -F '\t' -v k="$kind" -v p="$key" '$1 == k && $2 == p { found = 1 } END { exit !found }' "$TL_STATE"; then
        return 0
    fi
    printf '%s\t%s\t%s\n' "$kind" "$key" "$value" >> "$TL_STATE"
}

# tl_set KIND PATH VALUE: makes PATH (under the sysroot) hold VALUE; see the header.
# Returns 0 whether or not it wrote; counts changes and failures.
tl_set() {
    local kind=$1 path=$2 want=$3
    local file="$TL_ROOT$path" current now wanted
    if [[ ! -e $file ]]; then
        tl_note "skip: $path is not on this host"
        return 0
    fi
    current=$(tl_read "$path") || { tl_fail "cannot read $path"; return 0; }
    now=$(tl_norm "$kind" "$current")
    wanted=$(tl_norm "$kind" "$want")
    if [[ $now == "$wanted" ]]; then
        tl_note "ok: $path is $wanted"
        return 0
    fi
    TL_CHANGES=$((TL_CHANGES + 1))
    if (( TL_DRY_RUN )); then
        tl_note "would write: $path = $want (now ${now:-empty})"
        return 0
    fi
    local original=$current
    [[ $kind == selected ]] && original=$now
    tl_save "$kind" "$path" "$original"
    if ! { printf '%s\n' "$want" > "$file"; } 2>/dev/null; then
        TL_CHANGES=$((TL_CHANGES - 1))
        if (( TL_REFUSAL_IS_EXPECTED )); then
            tl_note "cannot: $path refused $want (left at $now)"
            TL_REFUSED=$((TL_REFUSED + 1))
        else
            tl_fail "could not write $want to $path (left at $now)"
        fi
        return 0
    fi
    local back
    back=$(tl_norm "$kind" "$(tl_read "$path" || true)")
    if [[ $back != "$wanted" ]]; then
        tl_fail "wrote $want to $path but it reads back ${back:-empty}"
        return 0
    fi
    tl_note "write: $path = $want (was ${now:-empty})"
}

# The command to use for TOOL: $TICKLINE_<TOOL> when set, the tool itself on the live host,
# nothing against a fake tree (the command is then skipped).
tl_tool() {
    local tool=$1 var
    var="TICKLINE_$(printf '%s' "$tool" | tr '[:lower:]' '[:upper:]')"
    if [[ -n ${!var:-} ]]; then printf '%s' "${!var}"
    elif tl_live; then printf '%s' "$tool"
    fi
}

# tl_run TOOL ARGS...: runs a command that changes the host (counted as a change); TL_RAN is 1
# when it ran and succeeded (not in a dry run or when skipped). Fails when the command fails.
# shellcheck disable=SC2034  # read by the scripts
TL_RAN=0
tl_run() {
    local tool=$1; shift
    local command
    command=$(tl_tool "$tool")
    TL_RAN=0
    TL_CHANGES=$((TL_CHANGES + 1))
    if (( TL_DRY_RUN )); then
        tl_note "would run: $tool $*"
        return 0
    fi
    if [[ -z $command ]]; then
        TL_CHANGES=$((TL_CHANGES - 1))
        tl_note "skip: $tool $* (fake host tree; set TICKLINE_${tool^^} to a stand-in)"
        return 0
    fi
    if "$command" "$@" > /dev/null 2>&1; then
        # shellcheck disable=SC2034  # read by the scripts
        TL_RAN=1
        tl_note "run: $tool $*"
        return 0
    fi
    TL_CHANGES=$((TL_CHANGES - 1))
    return 1
}

# --revert: writes back every saved original (last saved first); hands kinds other than the
# file kinds to the script's tl_revert_item KIND KEY VALUE. Removes the state file after.
tl_revert_all() {
    if [[ ! -f $TL_STATE ]]; then
        tl_note "nothing to revert: no saved state in $TL_STATE"
        return 0
    fi
    local -a lines=()
    mapfile -t lines < "$TL_STATE"
    local i kind key value
    for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
        IFS=$'\t' read -r kind key value <<< "${lines[i]}"
        case $kind in
            raw|cpulist|cpumask|selected) tl_set "$kind" "$key" "$value" ;;
            *) tl_revert_item "$kind" "$key" "$value" ;;
        esac
    done
    if (( ! TL_DRY_RUN && TL_FAILURES == 0 )); then rm -f "$TL_STATE"; fi
}

tl_finish() {
    if (( TL_DRY_RUN )); then
        if (( TL_CHANGES == 0 )); then echo "nothing to change"; else echo "dry run: $TL_CHANGES change(s) would be made, nothing changed"; fi
    elif (( TL_CHANGES == 0 && TL_FAILURES == 0 )); then
        echo "nothing to change"
    else
        if (( TL_FAILURES )); then echo "$TL_CHANGES change(s) made, $TL_FAILURES failed"; else echo "$TL_CHANGES change(s) made"; fi
    fi
    (( TL_FAILURES == 0 )) || exit 1
    exit 0
}
