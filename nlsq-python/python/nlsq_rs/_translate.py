"""Python functions to the nlsq model language.

A model function such as ``lambda x, a, b, c: a * np.exp(-b * x) + c`` or a ``def`` with
assignments is read back from its source with :mod:`ast` and written as a model-language
expression (``{ let ...; a * exp(-b * x) + c }``), which the Rust engine compiles and
differentiates exactly. Nothing of the function is called.

What translates:

- the first argument is the independent variable (any name); ``x[0]``, ``x[1]``, ... for
  several predictors (scipy's 2-D ``xdata``); every later argument is a parameter;
- ``+ - * / **``, unary ``-``/``+``, numbers, ``np.pi``/``math.pi``/``np.e``, and numeric
  constants the function reads from its globals or closure;
- ``np.``/``numpy.``/``math.`` functions (or the same imported by name): exp, log, log10, log2,
  sqrt, cbrt, sin, cos, tan, arcsin/asin, arccos/acos, arctan/atan, arctan2/atan2, sinh, cosh,
  tanh, abs/fabs/absolute, square, power/pow, hypot, maximum/fmax, minimum/fmin; builtins
  ``abs``, ``pow``, ``min``/``max`` of two values;
- comparisons (chained too) with ``and``/``or``/``not`` (or ``&``/``|``/``~``,
  ``np.logical_and/or/not``) inside ``np.where(c, a, b)`` or
  ``a if c else b``;
- in a ``def``: a docstring, assignments to names (``d = x - mu``, ``d += 1``, tuple
  unpacking of equal lengths) and one final ``return``.

Anything else raises :class:`~nlsq_rs.TranslationError` (a ``TypeError``) naming the construct
and its line.
"""

import ast
import inspect
import keyword
import linecache
import math
import numbers
import textwrap
import threading

from ._errors import TranslationError

__all__ = ["translate", "Translation"]

# Python name -> (model-language function, number of arguments)
_FUNCTIONS = {
    "exp": ("exp", 1),
    "log": ("ln", 1),
    "log10": ("log10", 1),
    "log2": ("log2", 1),
    "sqrt": ("sqrt", 1),
    "cbrt": ("cbrt", 1),
    "sin": ("sin", 1),
    "cos": ("cos", 1),
    "tan": ("tan", 1),
    "arcsin": ("asin", 1),
    "asin": ("asin", 1),
    "arccos": ("acos", 1),
    "acos": ("acos", 1),
    "arctan": ("atan", 1),
    "atan": ("atan", 1),
    "sinh": ("sinh", 1),
    "cosh": ("cosh", 1),
    "tanh": ("tanh", 1),
    "abs": ("abs", 1),
    "fabs": ("abs", 1),
    "absolute": ("abs", 1),
    "arctan2": ("atan2", 2),
    "atan2": ("atan2", 2),
    "hypot": ("hypot", 2),
    "maximum": ("max", 2),
    "fmax": ("max", 2),
    "max": ("max", 2),
    "minimum": ("min", 2),
    "fmin": ("min", 2),
    "min": ("min", 2),
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": 2 * math.pi}
_MODULES = {"numpy", "math"}
_DEFAULT_ALIASES = {"np": "numpy", "numpy": "numpy", "math": "math"}
_COMPARE = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
# Names the model language keeps for itself (Rust keywords and its own function names).
_RESERVED = set(keyword.kwlist) | {
    "as", "async", "await", "box", "const", "crate", "dyn", "enum", "extern", "fn", "impl",
    "let", "loop", "match", "mod", "move", "mut", "priv", "pub", "ref", "self", "Self",
    "static", "struct", "super", "trait", "type", "unsafe", "use", "where", "abstract",
    "become", "do", "final", "macro", "override", "typeof", "unsized", "virtual", "yield",
    "try", "gen", "union", "f64", "f32", "i32", "usize", "std", "core", "pi", "PI",
}


class Translation:
    """A translated function: the model-language ``expression``, the ``params`` in order,
    the number of predictors ``n_inputs`` (1 for a scalar ``x``) and the ``name`` reports use."""

    __slots__ = ("expression", "params", "n_inputs", "name")

    def __init__(self, expression, params, n_inputs, name):
        self.expression = expression
        self.params = params
        self.n_inputs = n_inputs
        #: How reports name the model: the def's name, or the lambda's source.
        self.name = name

    def __repr__(self):
        """The expression and parameters."""
        return "Translation(%r, params=%r)" % (self.expression, self.params)


# Where the function being translated lives (per thread): its file and the line offset of the
# parsed source, for error messages.
_WHERE = threading.local()


def _fail(node, what, hint=""):
    """Raises the TranslationError for `what` at node's line."""
    line = getattr(node, "lineno", None)
    where = ""
    if line:
        line += getattr(_WHERE, "offset", 0)
        file = getattr(_WHERE, "file", None)
        where = " (%s, line %d)" % (file, line) if file else " (line %d)" % line
    raise TranslationError(
        "cannot translate %s%s into the nlsq model language%s" % (what, where, hint and "; " + hint)
    )


def _lambda_nodes(tree):
    """Every lambda in the tree."""
    return [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]


def _same_code(node, func):
    """Whether the lambda node compiles to the code of ``func``."""
    try:
        expr = ast.Expression(body=node)
        ast.fix_missing_locations(expr)
        code = compile(expr, "<nlsq>", "eval")
    except (SyntaxError, ValueError, TypeError):
        return False
    for const in code.co_consts:
        if inspect.iscode(const) and const.co_code == func.__code__.co_code:
            return True
    return False


def _find_node(func):
    """The ``ast`` node of ``func``: a ``FunctionDef`` or a ``Lambda``."""
    name = getattr(func, "__name__", "")
    code = func.__code__
    if name != "<lambda>":
        try:
            src_lines, start = inspect.getsourcelines(func)
            tree = ast.parse(textwrap.dedent("".join(src_lines)))
            _WHERE.offset = max(start, 1) - 1
        except (OSError, TypeError, SyntaxError) as e:
            raise TranslationError(
                "cannot read the source of %r (%s): pass the model as a string instead" % (func, e)
            ) from None
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name:
                return n
        raise TranslationError("cannot find the definition of %r in its source" % (func,))
    # A lambda: parse the whole file when possible (a lambda may sit inside a call that spans
    # several lines), else the lines inspect gives; pick the lambda(s) on its first line and
    # tell several apart by their compiled code.
    candidates = []
    filename = code.co_filename
    lines = linecache.getlines(filename)
    trees = []
    if lines:
        try:
            trees.append((ast.parse("".join(lines)), 0))
        except SyntaxError:
            pass
    if not trees:
        try:
            src_lines, start = inspect.getsourcelines(func)
            src = textwrap.dedent("".join(src_lines))
            trees.append((ast.parse(src), max(start, 1) - 1))
        except (OSError, TypeError, SyntaxError) as e:
            raise TranslationError(
                "cannot read the source of the lambda (%s): pass the model as a string or a def"
                % e
            ) from None
    for tree, offset in trees:
        _WHERE.offset = offset
        candidates = [n for n in _lambda_nodes(tree) if n.lineno + offset == code.co_firstlineno]
        if len(candidates) > 1:
            candidates = [n for n in candidates if _same_code(n, func)] or candidates
        if len(candidates) == 1:
            return candidates[0]
    if not candidates:
        raise TranslationError("cannot find the lambda's source: pass the model as a string")
    raise TranslationError(
        "several lambdas on line %d could be this one: define the model with def or as a string"
        % code.co_firstlineno
    )


class _Writer:
    """Writes one function body as a model-language expression."""

    def __init__(self, func, xname, params):
        self.func = func
        self.xname = xname
        self.params = set(params)
        self.locals = set()
        self.max_index = None
        self.uses_x = False
        try:
            cv = inspect.getclosurevars(func)
            self.env = dict(func.__globals__)
            self.env.update(cv.nonlocals)
        except (TypeError, ValueError):
            self.env = dict(getattr(func, "__globals__", {}))

    # -- names -----------------------------------------------------------------------------
    def local(self, name):
        """The model-language name of a local variable (prefixed: no clash with keywords)."""
        return "v_" + name

    def module_of(self, node):
        """'numpy' or 'math' when ``node`` names one of those modules."""
        if isinstance(node, ast.Name):
            obj = self.env.get(node.id)
            if obj is not None:
                mod = getattr(obj, "__name__", None)
                return mod if inspect.ismodule(obj) and mod in _MODULES else None
            return _DEFAULT_ALIASES.get(node.id)
        return None

    def function_name(self, func):
        """The Python name of a called function, or None."""
        if isinstance(func, ast.Attribute) and self.module_of(func.value):
            return func.attr
        if isinstance(func, ast.Name):
            if func.id in self.locals or func.id in self.params or func.id == self.xname:
                return None
            obj = self.env.get(func.id)
            if obj is None:
                import builtins

                if func.id in ("abs", "min", "max", "pow"):
                    return func.id
                obj = getattr(builtins, func.id, None)
            if obj is None:
                return None
            mod = getattr(obj, "__module__", None) or ""
            name = getattr(obj, "__name__", None)
            if name and (mod in ("math", "builtins") or mod.startswith("numpy") or
                         type(obj).__name__ == "ufunc"):
                return name
        return None

    # -- expressions -----------------------------------------------------------------------
    def expr(self, n):
        """The model-language text of a value expression."""
        if isinstance(n, ast.Constant):
            v = n.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                _fail(n, "the constant %r" % (v,), "only numbers are supported")
            return self.number(n, v)
        if isinstance(n, ast.Name):
            return self.name(n)
        if isinstance(n, ast.Attribute):
            mod = self.module_of(n.value)
            if mod and n.attr in _CONSTANTS:
                return self.number(n, _CONSTANTS[n.attr])
            _fail(n, "the attribute `%s`" % _src(n), "only np.pi, np.e and math constants")
        if isinstance(n, ast.BinOp):
            return self.binop(n)
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.USub):
                return "(-%s)" % self.expr(n.operand)
            if isinstance(n.op, ast.UAdd):
                return self.expr(n.operand)
            _fail(n, "`%s`" % _src(n), "`not` belongs in a condition of np.where or if-else")
        if isinstance(n, ast.Call):
            return self.call(n)
        if isinstance(n, ast.IfExp):
            return "(if %s { %s } else { %s })" % (
                self.cond(n.test), self.expr(n.body), self.expr(n.orelse))
        if isinstance(n, ast.Subscript):
            return self.subscript(n)
        if isinstance(n, (ast.Compare, ast.BoolOp)):
            _fail(n, "the comparison `%s` as a value" % _src(n),
                  "use it as the condition of np.where(c, a, b) or `a if c else b`")
        _fail(n, "`%s` (%s)" % (_src(n), type(n).__name__))

    def number(self, n, v):
        """A finite number literal."""
        v = float(v)
        if not math.isfinite(v):
            _fail(n, "the non-finite constant %r" % v)
        r = repr(v)
        return "(%s)" % r if v < 0 else r

    def name(self, n):
        """A name: x, a parameter, a local or a numeric global."""
        i = n.id
        if i in self.locals:
            return self.local(i)
        if i == self.xname:
            self.uses_x = True
            return "x"
        if i in self.params:
            return i
        obj = self.env.get(i)
        if isinstance(obj, numbers.Real) and not isinstance(obj, bool):
            return self.number(n, obj)
        _fail(n, "the name `%s`" % i,
              "it is not an argument, a local or a numeric global of the function")

    def binop(self, n):
        """+ - * / and ** (integer powers as powi, 0.5 as sqrt)."""
        a = self.expr(n.left)
        op = n.op
        if isinstance(op, ast.Pow):
            e = n.right
            k = None
            if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and \
                    not isinstance(e.value, bool):
                k = e.value
            elif isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and \
                    isinstance(e.operand, ast.Constant) and \
                    isinstance(e.operand.value, (int, float)):
                k = -e.operand.value
            if k is not None and float(k).is_integer() and abs(k) <= 64:
                return "powi(%s, %d)" % (a, int(k))
            if k == 0.5:
                return "sqrt(%s)" % a
            return "pow(%s, %s)" % (a, self.expr(e))
        sym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(type(op))
        if sym is None:
            _fail(n, "the operator in `%s`" % _src(n), "use + - * / **")
        return "(%s %s %s)" % (a, sym, self.expr(n.right))

    def call(self, n):
        """A numpy/math function call, np.where included."""
        if n.keywords:
            _fail(n, "keyword arguments in `%s`" % _src(n))
        name = self.function_name(n.func)
        if name is None:
            _fail(n, "the call `%s`" % _src(n),
                  "only numpy/math functions (exp, log, sin, where, ...) can be called")
        args = n.args
        if name == "where":
            if len(args) != 3:
                _fail(n, "`%s`" % _src(n), "np.where needs (condition, a, b)")
            return "(if %s { %s } else { %s })" % (
                self.cond(args[0]), self.expr(args[1]), self.expr(args[2]))
        if name in ("square",):
            if len(args) != 1:
                _fail(n, "`%s`" % _src(n), "square takes one argument")
            return "powi(%s, 2)" % self.expr(args[0])
        if name in ("power", "pow"):
            if len(args) != 2:
                _fail(n, "`%s`" % _src(n), "%s takes two arguments" % name)
            return self.binop(ast.copy_location(ast.BinOp(args[0], ast.Pow(), args[1]), n))
        spec = _FUNCTIONS.get(name)
        if spec is None:
            _fail(n, "the function `%s`" % name,
                  "supported: %s, where, square, power" % ", ".join(sorted(_FUNCTIONS)))
        target, arity = spec
        if len(args) != arity:
            _fail(n, "`%s`" % _src(n), "%s takes %d argument(s) here" % (name, arity))
        return "%s(%s)" % (target, ", ".join(self.expr(a) for a in args))

    def subscript(self, n):
        """x[k] with a constant k."""
        base = n.value
        idx = n.slice
        if isinstance(idx, ast.Index):  # Python 3.8 compatibility
            idx = idx.value  # pragma: no cover
        if not (isinstance(base, ast.Name) and base.id == self.xname and base.id not in self.locals):
            _fail(n, "the subscript `%s`" % _src(n), "only x[k] of the independent variable")
        if not (isinstance(idx, ast.Constant) and isinstance(idx.value, int) and
                not isinstance(idx.value, bool) and idx.value >= 0):
            _fail(n, "the index in `%s`" % _src(n), "use a constant x[0], x[1], ...")
        k = idx.value
        self.max_index = k if self.max_index is None else max(self.max_index, k)
        self.uses_x = True
        return "x[%d]" % k

    def cond(self, n):
        """A condition: comparisons joined by and/or/not (or & | ~)."""
        if isinstance(n, ast.Compare):
            parts = []
            left = n.left
            for op, right in zip(n.ops, n.comparators):
                sym = _COMPARE.get(type(op))
                if sym is None:
                    _fail(n, "the comparison `%s`" % _src(n), "use < <= > >= == !=")
                parts.append("(%s %s %s)" % (self.expr(left), sym, self.expr(right)))
                left = right
            return parts[0] if len(parts) == 1 else "(%s)" % " && ".join(parts)
        if isinstance(n, ast.BoolOp):
            sym = " && " if isinstance(n.op, ast.And) else " || "
            return "(%s)" % sym.join(self.cond(v) for v in n.values)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.Not, ast.Invert)):
            return "(!%s)" % self.cond(n.operand)
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.BitAnd, ast.BitOr)):
            sym = " && " if isinstance(n.op, ast.BitAnd) else " || "
            return "(%s%s%s)" % (self.cond(n.left), sym, self.cond(n.right))
        if isinstance(n, ast.Call) and self.function_name(n.func) in (
                "logical_and", "logical_or") and len(n.args) == 2:
            sym = " && " if self.function_name(n.func) == "logical_and" else " || "
            return "(%s)" % sym.join(self.cond(v) for v in n.args)
        if isinstance(n, ast.Call) and self.function_name(n.func) == "logical_not" and \
                len(n.args) == 1:
            return "(!%s)" % self.cond(n.args[0])
        _fail(n, "the condition `%s`" % _src(n), "use a comparison such as x < c")

    # -- statements ------------------------------------------------------------------------
    def body(self, stmts):
        """A def's body: its let statements and the returned value."""
        lets = []
        for i, s in enumerate(stmts):
            last = i == len(stmts) - 1
            if i == 0 and isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and \
                    isinstance(s.value.value, str):
                continue  # docstring
            if isinstance(s, ast.Return):
                if not last:
                    _fail(s, "a `return` before the end", "one final return")
                if s.value is None:
                    _fail(s, "an empty return")
                return lets, self.expr(s.value)
            if isinstance(s, (ast.Assign, ast.AnnAssign)):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                if s.value is None:
                    continue
                for t in targets:
                    lets.extend(self.assign(t, s.value, s))
                continue
            if isinstance(s, ast.AugAssign):
                if not isinstance(s.target, ast.Name):
                    _fail(s, "the assignment to `%s`" % _src(s.target), "assign to names")
                value = ast.copy_location(
                    ast.BinOp(ast.Name(s.target.id, ast.Load()), s.op, s.value), s)
                lets.extend(self.assign(s.target, value, s))
                continue
            if isinstance(s, ast.Pass):
                continue
            what = {ast.If: "an if statement", ast.For: "a for loop", ast.While: "a while loop",
                    ast.Import: "an import", ast.ImportFrom: "an import"}.get(type(s))
            _fail(s, what or "the statement `%s`" % _src(s),
                  "a model function holds assignments and one final return; use np.where(c, a, b)"
                  " or `a if c else b` for conditions")
        _fail(stmts[-1] if stmts else None, "a function without a final return")

    def assign(self, target, value, stmt):
        """The let statements of one assignment."""
        if isinstance(target, ast.Name):
            code = self.expr(value)
            self.locals.add(target.id)
            return ["let %s = %s;" % (self.local(target.id), code)]
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(value.elts):
            codes = [self.expr(v) for v in value.elts]
            out = []
            for t, c in zip(target.elts, codes):
                if not isinstance(t, ast.Name):
                    _fail(stmt, "the assignment to `%s`" % _src(t), "assign to names")
                self.locals.add(t.id)
                out.append("let %s = %s;" % (self.local(t.id), c))
            return out
        _fail(stmt, "the assignment to `%s`" % _src(target), "assign to names")


def _src(node):
    """The Python source of a node, for messages."""
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - ast.unparse handles every node it made
        return type(node).__name__


def translate(func):
    """Translates a Python model function into the model language.

    Returns a :class:`Translation`. Raises :class:`~nlsq_rs.TranslationError` (a
    ``TypeError``) for a construct outside the translatable subset, or a function whose
    source cannot be read.
    """
    code = getattr(func, "__code__", None)
    if code is None:
        raise TranslationError("%r is not a Python function" % (func,))
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        raise TranslationError(
            "model functions need named parameters (f(x, a, b, ...)), not *args or **kwargs")
    names = list(code.co_varnames[: code.co_argcount])
    if code.co_kwonlyargcount:
        raise TranslationError("model functions cannot have keyword-only parameters")
    if len(names) < 2:
        raise TranslationError(
            "a model function takes the independent variable and at least one parameter, "
            "f(x, a, ...); %s takes %d argument(s)" % (getattr(func, "__name__", func), len(names)))
    xname, params = names[0], names[1:]
    for p in params:
        if p in _RESERVED or p == "x" or p.startswith("v_"):
            raise TranslationError(
                "parameter name `%s` is reserved in the model language (a keyword, `x`, `pi` or "
                "a `v_` name): rename it" % p)
    _WHERE.file, _WHERE.offset = code.co_filename, 0
    node = _find_node(func)
    w = _Writer(func, xname, params)
    if isinstance(node, ast.Lambda):
        lets, value = [], w.expr(node.body)
    else:
        lets, value = w.body(node.body)
    if lets:
        text = "{ %s %s }" % (" ".join(lets), value)
    else:
        text = value
    n_inputs = 1 if w.max_index is None else w.max_index + 1
    name = _src(node) if isinstance(node, ast.Lambda) else node.name
    return Translation(text, params, n_inputs, name)
