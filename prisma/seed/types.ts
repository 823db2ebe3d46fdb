export type SeedScale = 'full' | 'small';
