# ferryctl.bash — bash completion for ferryctl (nouns, verbs, port names, port fields, methods).
# Port fields and methods come from ferryd (port.schema, rpc.methods), so they are never out of date.
# Install as /usr/share/bash-completion/completions/ferryctl, or source it.

# ferryctl --json COMMAND... against the socket on the command line being completed
_ferryctl_ask()
{
    local sock_opt=()
    [[ -n $_ferryctl_sock ]] && sock_opt=(-s "$_ferryctl_sock")
    ferryctl "${sock_opt[@]}" --json -t 2 "$@" 2>/dev/null
}

_ferryctl_ports()
{
    _ferryctl_ask port list | sed -n 's/^    "name": "\([^"]*\)".*/\1/p'
}

_ferryctl_methods()
{
    _ferryctl_ask call rpc.methods | sed -n 's/^    "name": "\([^"]*\)".*/\1/p'
}

# "field=" for every field of the port object but its name, or ($1 = settable) for those port set
# changes; external_ids is given as external_ids.KEY=VALUE.
_ferryctl_fields()
{
    _ferryctl_ask port schema | awk -F'"' -v want="$1" '
        /^    "name": / { n = $4 }
        /^    "settable": / && n != "name" && (want != "settable" || /true/) {
            print (n == "external_ids" ? n "." : n "=") }'
}

_ferryctl()
{
    local cur prev words cword
    _init_completion || return

    local i noun="" verb="" nargs=0
    _ferryctl_sock=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -s | --socket | -t | --timeout)
            [[ ${words[i]} == -s || ${words[i]} == --socket ]] && _ferryctl_sock=${words[i + 1]}
            ((i++)) ;;
        -*) ;;
        *)
            if [[ -z $noun ]]; then noun=${words[i]}
            elif [[ -z $verb ]]; then verb=${words[i]}
            else ((nargs++)); fi ;;
        esac
    done

    if [[ $noun == capture && -n $verb ]]; then   # capture PORT [options]: -s is the snaplen
        case $prev in
        -d) COMPREPLY=($(compgen -W "rx tx both" -- "$cur")) ;;
        -w) _filedir ;;
        -f | -c | -s) ;;
        *) COMPREPLY=($(compgen -W "-d -f -c -s -w -q" -- "$cur")) ;;
        esac
        return
    fi
    if [[ $noun == mirror && $verb == add ]]; then   # mirror add NAME --ports P,.. --output PORT
        case $prev in
        --direction | -d) COMPREPLY=($(compgen -W "rx tx both" -- "$cur")) ;;
        --ports | --output) COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur")) ;;
        --vlans | --filter | -f) ;;
        *) ((nargs > 0)) && COMPREPLY=($(compgen -W "--ports --direction --vlans --filter --output" -- "$cur")) ;;
        esac
        return
    fi
    if [[ $noun == top ]]; then   # top [-d SECONDS] [-n ITERATIONS] [--json]
        [[ $prev == -d || $prev == -n ]] || COMPREPLY=($(compgen -W "-d -n --json" -- "$cur"))
        return
    fi
    case $prev in
    -s | --socket) _filedir; return ;;
    -t | --timeout) return ;;
    esac

    if [[ -z $noun ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--socket --json --timeout --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "port fdb filter capture mirror pmd top switch config events call" -- "$cur"))
        fi
        return
    fi
    if [[ -z $verb ]]; then
        case $noun in
        port) COMPREPLY=($(compgen -W "add del list show set schema stats stats-clear" -- "$cur")) ;;
        fdb) COMPREPLY=($(compgen -W "list add del flush" -- "$cur")) ;;
        filter) COMPREPLY=($(compgen -W "attach detach list map-set map-get" -- "$cur")) ;;
        capture) COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur")) ;;
        mirror) COMPREPLY=($(compgen -W "add del list" -- "$cur")) ;;
        pmd) COMPREPLY=($(compgen -W "list perf rebalance" -- "$cur")) ;;
        switch) COMPREPLY=($(compgen -W "info shutdown" -- "$cur")) ;;
        config) COMPREPLY=($(compgen -W "get save" -- "$cur")) ;;
        call) COMPREPLY=($(compgen -W "$(_ferryctl_methods)" -- "$cur")) ;;
        esac
        return
    fi
    case $noun/$verb in
    port/del | port/show | port/stats | port/stats-clear)
        ((nargs == 0)) && COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur")) ;;
    port/set)
        if ((nargs == 0)); then
            COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur"))
        else
            compopt -o nospace
            COMPREPLY=($(compgen -W "$(_ferryctl_fields settable)" -- "$cur"))
        fi ;;
    port/add)
        ((nargs > 0)) && { compopt -o nospace; COMPREPLY=($(compgen -W "$(_ferryctl_fields)" -- "$cur")); } ;;
    filter/attach)
        case $nargs in
        0) COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur")) ;;
        1) COMPREPLY=($(compgen -W "ingress egress" -- "$cur")) ;;
        2) _filedir o ;;
        esac ;;
    filter/detach | filter/list | filter/map-set | filter/map-get)
        ((nargs == 0)) && COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur")) ;;
    fdb/flush)
        COMPREPLY=($(compgen -W "$(_ferryctl_ports) --static" -- "$cur")) ;;
    mirror/del)
        ((nargs == 0)) && COMPREPLY=($(compgen -W "$(_ferryctl_ask mirror list |
            sed -n 's/^    "name": "\([^"]*\)".*/\1/p')" -- "$cur")) ;;
    config/save) _filedir ;;
    esac
} &&
    complete -F _ferryctl ferryctl
