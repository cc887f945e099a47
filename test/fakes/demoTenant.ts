/** The tenant and application the fakes and the tests share (made-up identifiers). */
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const CLIENT = '11111111-2222-3333-4444-555555555555';
