// Table and queue names. The JSON file is the single source: infra/ reads it with loadJsonContent.
import names = require('./resourceNames.json');

export const tableNames = names.tables;
export const defaultQueueNames = names.queues;
export const poisonQueueName = (queue: string): string => `${queue}-poison`;
