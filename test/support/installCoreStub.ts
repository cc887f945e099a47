import { installCoreStub } from '../../src/local/coreStub';

installCoreStub();
