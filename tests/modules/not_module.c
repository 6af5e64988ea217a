/*
 * not_module.c: refusal test: a plain shared object with no dfm_module_descriptor at all.
 */
int not_a_module_answer(void);

int not_a_module_answer(void) { return 42; }
