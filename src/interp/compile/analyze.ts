/**
 * The whole-program pass that decides which functions become generators.
 *
 * A function must be a generator when it can reach a scheduling point (see yield-points.ts):
 * directly, or by calling a program function that can. Call targets are resolved by name over
 * the whole program (every module at once), which is conservative for dynamic dispatch. The
 * result is a fixpoint over that name-based call graph.
 */
import type { AnyNode } from "./walk.js";
import { childNodes, isFunction } from "./walk.js";
import { CALLBACK_BUILTINS, NEVER_YIELDS, SCHEDULING_POINTS } from "./yield-points.js";

/** How a call site's target was classified. */
export type CallClass =
  /** A scheduling point, or a target the compiler cannot see. */
  | { kind: "yields" }
  /** Never yields. */
  | { kind: "plain" }
  /** Program functions of this name: yields if one of them can. */
  | { kind: "fns"; name: string }
  /**
   * A built-in that calls back (`map`, `forEach`, …; see runtime-kit's generator-aware built-ins):
   * yields if a callback passed to it can (or a program function of the same name can).
   */
  | { kind: "callback"; name: string; args: AnyNode[] };

export interface FnInfo {
  node: AnyNode;
  /** The name calls resolve it by, if any. */
  name: string | null;
  /** Constructors, getters and setters cannot be generators. */
  forcedSync: boolean;
  calls: AnyNode[];
  /** Result of the analysis. */
  mayYield: boolean;
  /** Calls `local` of `kmiri/rt` itself: its stack slots die when it returns. */
  ownsLocals: boolean;
}

/** Analysis results for a whole program, keyed by AST node. */
export interface Analysis {
  fnInfo: Map<AnyNode, FnInfo>;
  callClass: Map<AnyNode, CallClass>;
  /** True when calling a function of this name may reach a scheduling point. */
  nameYields(name: string): boolean;
  /** Whether a call site may yield (only meaningful inside a generator). */
  callYields(call: AnyNode): boolean;
}

const GLOBAL_FUNCTIONS = NEVER_YIELDS;

/** The name a function node is called by, from its declaration or where it is stored. */
export function functionName(node: AnyNode, parent: AnyNode | undefined): string | null {
  if (node.id && node.id.name) return node.id.name;
  if (!parent) return null;
  if (parent.type === "VariableDeclarator" && parent.id.type === "Identifier") return parent.id.name;
  if ((parent.type === "Property" || parent.type === "MethodDefinition" || parent.type === "PropertyDefinition") && !parent.computed) {
    return parent.key.type === "Identifier" ? parent.key.name : parent.key.type === "Literal" ? String(parent.key.value) : null;
  }
  if (parent.type === "AssignmentExpression") {
    const l = parent.left;
    if (l.type === "Identifier") return l.name;
    if (l.type === "MemberExpression" && !l.computed && l.property.type === "Identifier") return l.property.name;
  }
  return null;
}

/** A call of `local` from `kmiri/rt` (`local(...)` as imported, or `rt.local(...)`). */
function callsLocal(call: AnyNode, rtImports: Map<string, string>): boolean {
  const c = call.callee;
  if (c.type === "Identifier") return rtImports.get(c.name) === "local";
  return c.type === "MemberExpression" && !c.computed && c.property.name === "local";
}

/**
 * Analyses every module of a program together.
 * @param modules the module ASTs, plus the local names each module imports from `kmiri/rt`
 *   (local name → imported name).
 */
export function analyzeProgram(modules: { ast: AnyNode; rtImports: Map<string, string> }[]): Analysis {
  const fnInfo = new Map<AnyNode, FnInfo>();
  const byName = new Map<string, FnInfo[]>();
  const callClass = new Map<AnyNode, CallClass>();
  const callOwner = new Map<AnyNode, FnInfo | null>();
  const pending: { call: AnyNode; rtImports: Map<string, string> }[] = [];

  for (const mod of modules) {
    const visit = (node: AnyNode, parent: AnyNode | undefined, owner: FnInfo | null) => {
      if (isFunction(node)) {
        const forcedSync =
          !!parent &&
          ((parent.type === "MethodDefinition" && parent.kind !== "method") ||
            (parent.type === "Property" && (parent.kind === "get" || parent.kind === "set")));
        const info: FnInfo = { node, name: functionName(node, parent), forcedSync, calls: [], mayYield: false, ownsLocals: false };
        fnInfo.set(node, info);
        if (info.name) {
          const list = byName.get(info.name) ?? [];
          list.push(info);
          byName.set(info.name, list);
        }
        owner = info;
      } else if (node.type === "CallExpression" || node.type === "NewExpression") {
        // Classified once every module's functions are known (below): a call of a method
        // defined in a module visited later must see it.
        pending.push({ call: node, rtImports: mod.rtImports });
        callOwner.set(node, owner);
        owner?.calls.push(node);
        if (owner && callsLocal(node, mod.rtImports)) owner.ownsLocals = true;
      }
      for (const c of childNodes(node)) visit(c, node, owner);
    };
    visit(mod.ast, undefined, null);
  }
  for (const { call, rtImports } of pending) callClass.set(call, classify(call, rtImports));

  // Fixpoint: a function yields if one of its calls does.
  const yieldsByName = new Map<string, boolean>();
  const callYields = (call: AnyNode): boolean => {
    const c = callClass.get(call);
    if (!c) return true;
    if (c.kind === "yields") return true;
    if (c.kind === "plain") return false;
    if (c.kind === "callback") return (yieldsByName.get(c.name) ?? false) || c.args.some(argYields);
    return yieldsByName.get(c.name) ?? false;
  };
  /** Whether a function passed as an argument may reach a scheduling point. */
  const argYields = (arg: AnyNode): boolean => {
    if (isFunction(arg)) return fnInfo.get(arg)?.mayYield ?? true;
    if (arg.type === "Identifier") {
      if (byName.has(arg.name)) return yieldsByName.get(arg.name) ?? false;
      return !GLOBAL_FUNCTIONS.has(arg.name);
    }
    return !(arg.type === "Literal" || arg.type === "ArrayExpression" || arg.type === "ObjectExpression" || arg.type === "TemplateLiteral" || arg.type === "UnaryExpression");
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const info of fnInfo.values()) {
      if (info.mayYield || info.forcedSync) continue;
      if (info.calls.some(callYields)) {
        info.mayYield = true;
        changed = true;
        if (info.name) yieldsByName.set(info.name, true);
      }
    }
  }

  function classify(call: AnyNode, rtImports: Map<string, string>): CallClass {
    if (call.type === "NewExpression") return { kind: "plain" }; // constructors run without yielding
    const callee = call.callee;
    let name: string | null = null;
    if (callee.type === "Identifier") {
      const imported = rtImports.get(callee.name);
      if (imported !== undefined) {
        return SCHEDULING_POINTS.has(imported) ? { kind: "yields" } : { kind: "plain" };
      }
      name = callee.name as string;
      if (!byName.has(name)) return GLOBAL_FUNCTIONS.has(name) ? { kind: "plain" } : { kind: "yields" };
    } else if (callee.type === "MemberExpression" && !callee.computed && callee.property.type === "Identifier") {
      const member = callee.property.name as string;
      name = member;
      if (SCHEDULING_POINTS.has(member)) return { kind: "yields" };
      if (CALLBACK_BUILTINS.has(member)) return { kind: "callback", name: member, args: call.arguments };
      if (!byName.has(member)) return NEVER_YIELDS.has(member) ? { kind: "plain" } : { kind: "yields" };
    } else if (callee.type === "Super") {
      return { kind: "plain" };
    } else {
      return { kind: "yields" };
    }
    return { kind: "fns", name: name! };
  }

  return {
    fnInfo,
    callClass,
    nameYields: (name) => yieldsByName.get(name) ?? false,
    callYields,
  };
}
