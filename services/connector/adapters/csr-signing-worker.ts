/** Entry point of a CSR signing worker thread: runs each job it is sent and posts the outcome back. */
import { parentPort, workerData } from 'node:worker_threads';
import { WORKER_READY, runSigningJob, type SigningJob, type SigningWorkerData } from './csr-signer.ts';

const data = workerData as SigningWorkerData;

parentPort?.on('message', (job: SigningJob) => {
  parentPort?.postMessage(runSigningJob(data, job));
});

parentPort?.postMessage(WORKER_READY);
