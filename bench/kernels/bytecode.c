/* bytecode — a small stack-machine interpreter (switch dispatch, operand
 * stack, locals, call frames) running a loop program: an LCG, shifts,
 * modulo, a branch and a call per iteration, plus an inner Collatz loop.
 * The classic "interpreter inside the interpreter" workload: indirect
 * branches, unpredictable dispatch, loads/stores to small arrays. */
#include "bench.h"

volatile uint32_t BYTECODE_ITERS = 300000;

enum op {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_MODU, OP_AND,
    OP_XOR, OP_SHR, OP_SHL, OP_LTU, OP_EQ, OP_JMP, OP_JZ, OP_JNZ, OP_DUP, OP_POP,
    OP_CALL, OP_RET,
};

#define MAX_CODE 512
#define STACK 256
#define FRAMES 64
#define LOCALS 8

typedef struct {
    int32_t code[MAX_CODE];
    int n;
} program;

static int emit(program *p, int32_t op) { p->code[p->n] = op; return p->n++; }
static int emit2(program *p, int32_t op, int32_t arg) { emit(p, op); return emit(p, arg); }
static void patch(program *p, int at, int target) { p->code[at] = target; }

typedef struct {
    int ret_pc;
    uint32_t locals[LOCALS];
} frame;

static uint32_t run(const int32_t *code, int entry, uint32_t arg0)
{
    uint32_t stack[STACK];
    static frame frames[FRAMES];
    int sp = 0, fp = 0, pc = entry;
    memset(&frames[0], 0, sizeof frames[0]);
    frames[0].locals[0] = arg0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case OP_HALT: return stack[sp - 1];
        case OP_PUSH: stack[sp++] = (uint32_t)code[pc++]; break;
        case OP_LOAD: stack[sp++] = frames[fp].locals[code[pc++]]; break;
        case OP_STORE: frames[fp].locals[code[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case OP_MODU: sp--; stack[sp - 1] = stack[sp] ? stack[sp - 1] % stack[sp] : 0; break;
        case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case OP_SHR: sp--; stack[sp - 1] >>= (stack[sp] & 31); break;
        case OP_SHL: sp--; stack[sp - 1] <<= (stack[sp] & 31); break;
        case OP_LTU: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: pc = stack[--sp] ? pc + 1 : code[pc]; break;
        case OP_JNZ: pc = stack[--sp] ? code[pc] : pc + 1; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_POP: sp--; break;
        case OP_CALL: { /* CALL target nargs: args popped into new frame's locals */
            int target = code[pc++], nargs = code[pc++];
            if (fp + 1 >= FRAMES)
                bench_fail("bytecode: call stack overflow");
            frame *f = &frames[++fp];
            f->ret_pc = pc;
            for (int i = nargs - 1; i >= 0; i--)
                f->locals[i] = stack[--sp];
            pc = target;
            break;
        }
        case OP_RET: pc = frames[fp--].ret_pc; break; /* result stays on stack */
        default: bench_fail("bytecode: bad opcode");
        }
        if (sp >= STACK - 4)
            bench_fail("bytecode: operand stack overflow");
    }
}

/* main(n):  acc = 0; for (i = 0; i < n; i++) {
 *             x = (i * 1103515245 + 12345) & 0x7fffffff;
 *             acc = (acc ^ (x >> 3)) + i % 7;
 *             if (x & 1) acc += 3; else acc -= 1;
 *             acc += collatz_steps(x & 1023 | 1, 40);  // call
 *           } return acc;
 * collatz_steps(v, cap): steps = 0; while (v != 1 && steps < cap) {
 *             v = (v & 1) ? 3 * v + 1 : v >> 1; steps++; } return steps; */
static int build(program *p)
{
    enum { N = 0, I = 1, ACC = 2, X = 3 };
    int jz_end, jz_else, jmp_join, call_at, loop, end, els, join;

    emit2(p, OP_PUSH, 0); emit2(p, OP_STORE, ACC);
    emit2(p, OP_PUSH, 0); emit2(p, OP_STORE, I);
    loop = p->n;
    emit2(p, OP_LOAD, I); emit2(p, OP_LOAD, N); emit(p, OP_LTU);
    jz_end = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, I); emit2(p, OP_PUSH, 1103515245); emit(p, OP_MUL);
    emit2(p, OP_PUSH, 12345); emit(p, OP_ADD);
    emit2(p, OP_PUSH, 0x7fffffff); emit(p, OP_AND); emit2(p, OP_STORE, X);
    emit2(p, OP_LOAD, ACC); emit2(p, OP_LOAD, X); emit2(p, OP_PUSH, 3); emit(p, OP_SHR);
    emit(p, OP_XOR); emit2(p, OP_LOAD, I); emit2(p, OP_PUSH, 7); emit(p, OP_MODU);
    emit(p, OP_ADD); emit2(p, OP_STORE, ACC);
    emit2(p, OP_LOAD, X); emit2(p, OP_PUSH, 1); emit(p, OP_AND);
    jz_else = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, ACC); emit2(p, OP_PUSH, 3); emit(p, OP_ADD); emit2(p, OP_STORE, ACC);
    jmp_join = emit2(p, OP_JMP, 0);
    els = p->n;
    emit2(p, OP_LOAD, ACC); emit2(p, OP_PUSH, 1); emit(p, OP_SUB); emit2(p, OP_STORE, ACC);
    join = p->n;
    emit2(p, OP_LOAD, ACC);
    emit2(p, OP_LOAD, X); emit2(p, OP_PUSH, 1023); emit(p, OP_AND);
    emit2(p, OP_PUSH, 1); emit(p, OP_XOR); /* v = (x & 1023) ^ 1 ... */
    emit2(p, OP_PUSH, 1); emit(p, OP_SHL); emit2(p, OP_PUSH, 1); emit(p, OP_ADD); /* ... *2+1: odd, >= 1 */
    emit2(p, OP_PUSH, 40);
    emit(p, OP_CALL); call_at = emit(p, 0); emit(p, 2);
    emit(p, OP_ADD); emit2(p, OP_STORE, ACC);
    emit2(p, OP_LOAD, I); emit2(p, OP_PUSH, 1); emit(p, OP_ADD); emit2(p, OP_STORE, I);
    emit2(p, OP_JMP, loop);
    end = p->n;
    emit2(p, OP_LOAD, ACC); emit(p, OP_HALT);
    patch(p, jz_end, end);
    patch(p, jz_else, els);
    patch(p, jmp_join, join);

    /* collatz_steps(v = local 0, cap = local 1), steps = local 2 */
    int fn = p->n, floop, jz_done1, jz_done2, jz_even, jmp_next, even, next, done;
    emit2(p, OP_PUSH, 0); emit2(p, OP_STORE, 2);
    floop = p->n;
    emit2(p, OP_LOAD, 0); emit2(p, OP_PUSH, 1); emit(p, OP_EQ);
    jz_done1 = emit2(p, OP_JNZ, 0);
    emit2(p, OP_LOAD, 2); emit2(p, OP_LOAD, 1); emit(p, OP_LTU);
    jz_done2 = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, 0); emit2(p, OP_PUSH, 1); emit(p, OP_AND);
    jz_even = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, 0); emit(p, OP_DUP); emit(p, OP_ADD); emit2(p, OP_LOAD, 0); emit(p, OP_ADD);
    emit2(p, OP_PUSH, 1); emit(p, OP_ADD); emit2(p, OP_STORE, 0);
    jmp_next = emit2(p, OP_JMP, 0);
    even = p->n;
    emit2(p, OP_LOAD, 0); emit2(p, OP_PUSH, 1); emit(p, OP_SHR); emit2(p, OP_STORE, 0);
    next = p->n;
    emit2(p, OP_LOAD, 2); emit2(p, OP_PUSH, 1); emit(p, OP_ADD); emit2(p, OP_STORE, 2);
    emit2(p, OP_JMP, floop);
    done = p->n;
    emit2(p, OP_LOAD, 2); emit(p, OP_RET);
    patch(p, jz_done1, done);
    patch(p, jz_done2, done);
    patch(p, jz_even, even);
    patch(p, jmp_next, next);
    patch(p, call_at, fn);
    if (p->n > MAX_CODE)
        bench_fail("bytecode: program too large");
    return 0;
}

/* The same program in C, to check the interpreter (untimed, small n). */
static uint32_t reference(uint32_t n)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = (i * 1103515245u + 12345u) & 0x7fffffffu;
        acc = (acc ^ (x >> 3)) + i % 7;
        acc = (x & 1) ? acc + 3 : acc - 1;
        uint32_t v = (((x & 1023) ^ 1) << 1) + 1, steps = 0;
        while (v != 1 && steps < 40) {
            v = (v & 1) ? 3 * v + 1 : v >> 1;
            steps++;
        }
        acc += steps;
    }
    return acc;
}

int main(void)
{
    static program prog;
    build(&prog);
    if (run(prog.code, 0, 1000) != reference(1000))
        bench_fail("bytecode: interpreter disagrees with reference");
    uint32_t n = BYTECODE_ITERS;
    double t0 = bench_now_ms();
    uint32_t r = run(prog.code, 0, n);
    double t1 = bench_now_ms();
    char buf[48];
    snprintf(buf, sizeof buf, "%08x/ops=%d", r, prog.n);
    bench_report("bytecode", buf, t1 - t0);
    return 0;
}
