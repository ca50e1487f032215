# ferryctl.bash — bash completion for ferryctl (nouns, verbs, port names, port keys).
# Install as /usr/share/bash-completion/completions/ferryctl, or source it.

_ferryctl_ports()
{
    local sock_opt=()
    [[ -n $_ferryctl_sock ]] && sock_opt=(-s "$_ferryctl_sock")
    ferryctl "${sock_opt[@]}" --json -t 2 port list 2>/dev/null |
        sed -n 's/^ *"name": "\([^"]*\)".*/\1/p'
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

    case $prev in
    -s | --socket) _filedir; return ;;
    -t | --timeout) return ;;
    esac

    if [[ -z $noun ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--socket --json --timeout --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "port fdb filter pmd switch config events call" -- "$cur"))
        fi
        return
    fi
    if [[ -z $verb ]]; then
        case $noun in
        port) COMPREPLY=($(compgen -W "add del list show set stats stats-clear" -- "$cur")) ;;
        fdb) COMPREPLY=($(compgen -W "list add del flush" -- "$cur")) ;;
        filter) COMPREPLY=($(compgen -W "attach detach list" -- "$cur")) ;;
        pmd) COMPREPLY=($(compgen -W "list rebalance" -- "$cur")) ;;
        switch) COMPREPLY=($(compgen -W "info shutdown" -- "$cur")) ;;
        config) COMPREPLY=($(compgen -W "get save" -- "$cur")) ;;
        call) COMPREPLY=($(compgen -W "rpc.methods switch.info switch.shutdown port.add port.del
              port.list port.get port.set port.stats port.stats.clear fdb.list fdb.add fdb.del
              fdb.flush filter.attach filter.detach filter.list pmd.list pmd.rebalance config.get config.save events.subscribe
              events.unsubscribe" -- "$cur")) ;;
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
            COMPREPLY=($(compgen -W "mtu= vlan= mac= admin= external_ids." -- "$cur"))
        fi ;;
    port/add)
        ((nargs > 0)) && { compopt -o nospace; COMPREPLY=($(compgen -W "type= devargs= rxq= txq=
            rxd= txd= mtu= hw_mac= sriov= path= mode= mac= vlan= admin= external_ids." -- "$cur")); } ;;
    filter/attach)
        case $nargs in
        0) COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur")) ;;
        1) COMPREPLY=($(compgen -W "ingress egress" -- "$cur")) ;;
        2) _filedir o ;;
        esac ;;
    filter/detach | filter/list)
        ((nargs == 0)) && COMPREPLY=($(compgen -W "$(_ferryctl_ports)" -- "$cur")) ;;
    fdb/flush)
        COMPREPLY=($(compgen -W "$(_ferryctl_ports) --static" -- "$cur")) ;;
    config/save) _filedir ;;
    esac
} &&
    complete -F _ferryctl ferryctl
