#!/usr/bin/env python3
"""Report pairs of modules of one crate that import each other.

Usage: python3 scripts/module_cycles.py [crates-dir]   (VERBOSE=1 shows the references)


For every .rs file under crates/*/src: collect paths starting with crate::,
super:: or self::, plus `use` trees (including brace groups), and bare
`child::` paths naming a submodule; resolve each to the longest existing
module; report every pair A<->B with A using B and B using A, and every
longer cycle (a strongly connected component of more than two modules), so
that 0 means the module graph of each crate is a DAG."""
import os, re, sys, itertools

root = sys.argv[1] if len(sys.argv) > 1 else 'crates'

def strip(src):
    # remove comments and string/char literals (roughly)
    out = []; i = 0; n = len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i); i = n if j < 0 else j
        elif src.startswith('/*', i):
            depth = 0
            while i < n:
                if src.startswith('/*', i): depth += 1; i += 2
                elif src.startswith('*/', i):
                    depth -= 1; i += 2
                    if depth == 0: break
                else: i += 1
        elif c == 'r' and re.match(r'r#*"', src[i:i+10]) and (i == 0 or not (src[i-1].isalnum() or src[i-1]=='_')):
            m = re.match(r'r(#*)"', src[i:]); hashes = m.group(1)
            end = src.find('"' + hashes, i + len(m.group(0)))
            i = n if end < 0 else end + 1 + len(hashes); out.append('""')
        elif c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == '\\' else 1
            i += 1; out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", src[i:i+4]) or (c=="'" and re.match(r"'\\u\{[0-9a-fA-F]+\}'", src[i:i+12])):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:]); i += len(m.group(0)); out.append("' '")
        else:
            out.append(c); i += 1
    return ''.join(out)

def crate_modules(src_dir):
    mods = {}
    for dp, _, fns in os.walk(src_dir):
        for fn in fns:
            if not fn.endswith('.rs'): continue
            p = os.path.join(dp, fn)
            rel = os.path.relpath(p, src_dir)[:-3].split(os.sep)
            if rel[-1] in ('lib', 'main') and len(rel) == 1: rel = []
            elif rel[-1] == 'mod': rel = rel[:-1]
            elif len(rel) == 1 and rel[0] != 'lib' and os.path.basename(dp) == 'bin': continue
            mods[tuple(rel)] = p
    return mods

def expand_use(tree):
    """Expand a use tree string into a list of paths (lists of segments)."""
    tree = re.sub(r'\s+', '', tree)
    def parse(s, i, prefix):
        paths = []; seg = prefix[:]; cur = ''
        while i < len(s):
            ch = s[i]
            if s.startswith('::', i):
                if cur: seg.append(cur); cur = ''
                i += 2; continue
            if ch == '{':
                if cur: seg.append(cur); cur = ''
                sub, i = parse_group(s, i + 1, seg)
                paths.extend(sub); seg = None; continue
            if ch in ',}':
                break
            cur += ch; i += 1
        if seg is not None:
            if cur: seg.append(cur)
            paths.append(seg)
        return paths, i
    def parse_group(s, i, prefix):
        paths = []
        while i < len(s) and s[i] != '}':
            sub, i = parse(s, i, prefix)
            paths.extend(sub)
            if i < len(s) and s[i] == ',': i += 1
        return paths, i + 1
    ps, _ = parse(tree, 0, [])
    return ps

REEXPORTS = {}
EVID = {}

def resolve(path, here, mods, is_mod_rs, seen=0):
    # here: module path tuple of the file
    segs = list(path)
    if not segs: return None
    base = None
    if segs[0] == 'crate': base = (); segs = segs[1:]
    elif segs[0] in ('super', 'self'):
        base = here
        while segs and segs[0] in ('super', 'self'):
            if segs[0] == 'super': base = base[:-1]
            segs = segs[1:]
    elif tuple(here) + (segs[0],) in mods:
        base = tuple(here)
    else:
        return None
    best = tuple(base); k = 0
    while k < len(segs):
        cand = best + (segs[k],)
        if cand in mods: best = cand; k += 1; continue
        # follow a re-export (`pub use a::b::Name;`) to the module defining Name
        target = REEXPORTS.get(best, {}).get(segs[k])
        if target is not None and seen < 8:
            return resolve(target, best, mods, False, seen + 1) or best
        break
    return best

def analyse(crate_src):
    mods = crate_modules(crate_src)
    REEXPORTS.clear()
    for mod, p in mods.items():
        src = strip(open(p).read())
        for m in re.finditer(r'\bpub(?:\([^)]*\))?\s+use\s+([^;]+);', src):
            for path in expand_use(m.group(1)):
                if len(path) < 2: continue
                last = path[-1]
                alias = re.match(r'(\w+)as(\w+)$', last)
                name = alias.group(2) if alias else last
                if alias: path = path[:-1] + [alias.group(1)]
                REEXPORTS.setdefault(mod, {})[name] = path
    edges = {}
    for mod, p in mods.items():
        src = strip(open(p).read())
        # inline `mod name {` blocks: treat uses inside as the file's (super:: inside
        # `mod tests` is the file itself -> self edge, ignored)
        refs = set()
        inline = [(m.start(), m.group(1)) for m in re.finditer(r'\bmod\s+(\w+)\s*\{', src)]
        def module_at(pos):
            # depth-aware: is pos inside an inline mod block?
            for start, name in inline:
                brace = src.find('{', start)
                depth = 0
                for j in range(brace, len(src)):
                    if src[j] == '{': depth += 1
                    elif src[j] == '}':
                        depth -= 1
                        if depth == 0: break
                if brace < pos < j: return mod + (name,)
            return mod
        reexport_spans = [(m.start(), m.end()) for m in re.finditer(r'\bpub(?:\([^)]*\))?\s+use\s+[^;]+;', src)]
        in_reexport = lambda pos: any(a <= pos < b for a, b in reexport_spans)
        for m in re.finditer(r'\buse\s+([^;]+);', src):
            if in_reexport(m.start()): continue
            here = module_at(m.start())
            for path in expand_use(m.group(1)):
                path = [re.sub(r'as\w+$', '', s) for s in path]
                r = resolve(path, here, mods, False)
                if r is not None: refs.add(r); EVID.setdefault((mod, r), set()).add(src[m.start():m.end()][:70].replace('\n',' '))
        for m in re.finditer(r'(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::[A-Za-z_]\w*)+)', src):
            if in_reexport(m.start()): continue
            here = module_at(m.start())
            r = resolve(m.group(1).split('::'), here, mods, False)
            if r is not None: refs.add(r); EVID.setdefault((mod, r), set()).add(src[m.start():m.end()][:70].replace('\n',' '))
        # references to descendants count too (parent using child); only self is dropped
        edges[mod] = {r for r in refs if r != mod}
    return mods, edges

def strongly_connected(mods, edges):
    """Tarjan's algorithm, iterative: the components with more than one module."""
    index, low, stack, on_stack, comps, counter = {}, {}, [], set(), [], [0]
    for root_mod in sorted(mods):
        if root_mod in index: continue
        work = [(root_mod, iter(sorted(edges.get(root_mod, ()))))]
        index[root_mod] = low[root_mod] = counter[0]; counter[0] += 1
        stack.append(root_mod); on_stack.add(root_mod)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in mods: continue
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work: low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop(); on_stack.discard(x); comp.append(x)
                    if x == v: break
                if len(comp) > 1: comps.append(comp)
    return comps

total = 0
for crate in sorted(os.listdir(root)):
    src = os.path.join(root, crate, 'src')
    if not os.path.isdir(src): continue
    mods, edges = analyse(src)
    name = lambda m: 'crate::' + '::'.join(m) if m else 'crate'
    for a, b in itertools.combinations(sorted(mods), 2):
        if b in edges.get(a, ()) and a in edges.get(b, ()):
            print(f'{crate}: {name(a)} <-> {name(b)}'); total += 1
            if os.environ.get('VERBOSE'):
                for x, y in ((a, b), (b, a)):
                    print('    ', name(x), '->', name(y), ':', sorted(EVID.get((x, y), ()))[:4])
    # longer cycles (a -> b -> c -> a): every strongly connected component of
    # more than two modules is one more cycle to break (pairs are listed above)
    for comp in strongly_connected(mods, edges):
        if len(comp) > 2:
            print(f'{crate}: cycle through ' + ', '.join(name(m) for m in sorted(comp))); total += 1
print(f'{total} pair(s) or cycle(s) of modules importing each other')
sys.exit(1 if total else 0)
